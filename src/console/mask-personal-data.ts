/** What stands in for a masked value. */
export const MASK = '[masked]'

/**
 * Keys whose values are personal data, by name: Tylt's `userDetails`, and the names of fields that carry a
 * person's name, contact, birth date, address, account or identity document in any product's body. Masking
 * too much costs a click; masking too little shows a customer's data to whoever looks over a shoulder.
 */
const PERSONAL_KEY =
  /^userdetails$|name$|e-?mail|phone|mobile|msisdn|birth|^dob$|address|street|city|zip|postal|postcode|iban|account(no|number|_number|holder)|^pan$|aadhaar|cpf|passport|ssn|taxid|nationalid|document|^ip$|^ipaddress$|^vpa$|upiid/
/** Objects whose `name` is a thing's, not a person's (`trade.event.name: "completed"`). */
const IMPERSONAL_PARENT = /^(event|status|state|network|currency|product|type|method|bank)$/
/** An email address, alone or inside free text ("contact ana@example.org"). */
const EMAIL = /[^@\s]+@[^@\s]+\.[^@\s]+/
/**
 * An international phone number, alone or inside free text: a `+` and at least 7 digits, with at most two
 * separators between digits ("+55 11 99999-0000", "+1 (555) 123-4567"). Fewer digits are more likely an
 * amount or a time zone ("+1500.00", "+05:30") than a number someone answers.
 */
const PHONE = /\+\d(?:[\s().-]{0,2}\d){6,}/

export interface MaskedBody {
  /** The body as the console shows it: pretty JSON, or the text itself when it is not JSON. */
  readonly text: string
  /** How many values were masked (a masked object counts once). */
  readonly masked: number
  readonly json: boolean
}

/** A value that holds an email address or a phone number anywhere is masked whole: the rest may name the person. */
const looksPersonal = (value: string) => EMAIL.test(value) || PHONE.test(value)

function personalKey(key: string, parent: string): boolean {
  const name = key.toLowerCase()
  return PERSONAL_KEY.test(name) && !(name === 'name' && IMPERSONAL_PARENT.test(parent.toLowerCase()))
}

function mask(value: unknown, counter: { n: number }, parent = ''): unknown {
  if (typeof value === 'string' && looksPersonal(value)) {
    counter.n++
    return MASK
  }
  if (Array.isArray(value)) return value.map((item) => mask(item, counter, parent))
  if (value === null || typeof value !== 'object') return value
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) {
    const personal = personalKey(key, parent) && item !== null && item !== ''
    if (personal) counter.n++
    out[key] = personal ? MASK : mask(item, counter, key)
  }
  return out
}

/**
 * The body with personal data masked, or (with `reveal`) in full. A body that is not JSON cannot be read
 * field by field, so it is masked as a whole.
 */
export function maskPersonalData(body: Buffer, reveal = false): MaskedBody {
  const text = body.toString('utf8')
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return reveal ? { text, masked: 0, json: false } : { text: MASK, masked: 1, json: false }
  }
  if (reveal) return { text: JSON.stringify(parsed, null, 2), masked: 0, json: true }
  const counter = { n: 0 }
  return { text: JSON.stringify(mask(parsed, counter), null, 2), masked: counter.n, json: true }
}
