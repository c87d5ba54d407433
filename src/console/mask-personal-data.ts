import { setImmediate as nextTurn } from 'node:timers/promises'
import { type JsonView, writeJson } from './bounded-json.js'

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
/**
 * An email address, alone or inside free text ("contact ana@example.org"): a character, `@`, then a word
 * holding a dot. Written so that each try is anchored on one `@` and a run without `@` is never rescanned:
 * linear in the length of the text, whatever it holds.
 */
const EMAIL = /[^@\s]@[^@\s]+\.[^@\s]/
/**
 * An international phone number, alone or inside free text: a `+` and at least 7 digits, with at most two
 * separators between digits ("+55 11 99999-0000", "+1 (555) 123-4567"). Fewer digits are more likely an
 * amount or a time zone ("+1500.00", "+05:30") than a number someone answers.
 */
const PHONE = /\+\d(?:[\s().-]{0,2}\d){6,}/
/** A string longer than this is masked whole: no id or status is that long, and a note that long may name anyone. */
export const LONG_STRING = 1024
/** At most this much of a body is shown; the rest is cut, with a note. */
export const MAX_SHOWN_CHARS = 256 * 1024
/** How long one slice of work may hold the event loop before it yields (milliseconds). */
const SLICE_MS = 2

export interface MaskedBody {
  /** The body as the console shows it: pretty JSON, or the text itself when it is not JSON. */
  readonly text: string
  /** How many values were masked (a masked object counts once). */
  readonly masked: number
  readonly json: boolean
  /** Whether the text was cut at its bound. */
  readonly cut: boolean
}

/** A value that holds an email address or a phone number anywhere is masked whole: the rest may name the person. */
const looksPersonal = (value: string) => value.length > LONG_STRING || EMAIL.test(value) || PHONE.test(value)

function personalKey(key: string, parent: string): boolean {
  const name = key.toLowerCase()
  return PERSONAL_KEY.test(name) && !(name === 'name' && IMPERSONAL_PARENT.test(parent.toLowerCase()))
}

function maskingView(counter: { n: number }): JsonView {
  return {
    replace(key, value, parent) {
      const personal =
        (typeof value === 'string' && looksPersonal(value)) ||
        (personalKey(key, parent) && value !== null && value !== '')
      if (!personal) return value
      counter.n++
      return MASK
    },
  }
}

const AS_IS: JsonView = { replace: (_key, value) => value }

const cutNote = (bytes: number) => `\n… cut here: the body is ${bytes} bytes`

/** Runs the writer to its end, yielding to the event loop whenever a slice has taken SLICE_MS. */
async function drain(writer: Generator<void, boolean>): Promise<boolean> {
  let since = performance.now()
  for (;;) {
    const step = writer.next()
    if (step.done === true) return step.value
    if (performance.now() - since > SLICE_MS) {
      await nextTurn()
      since = performance.now()
    }
  }
}

/**
 * The body with personal data masked, or (with `reveal`) in full, shown within `maxChars`. A body that
 * is not JSON cannot be read field by field, so it is masked as a whole. Yields to the event loop between
 * slices: a page view must never hold up the callbacks.
 */
export async function maskPersonalData(
  body: Buffer,
  reveal = false,
  maxChars = MAX_SHOWN_CHARS,
): Promise<MaskedBody> {
  const text = body.toString('utf8')
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    if (!reveal) return { text: MASK, masked: 1, json: false, cut: false }
    const cut = text.length > maxChars
    return {
      text: cut ? text.slice(0, maxChars) + cutNote(body.length) : text,
      masked: 0,
      json: false,
      cut,
    }
  }
  await nextTurn()
  const counter = { n: 0 }
  const out: string[] = []
  const cut = await drain(writeJson(parsed, reveal ? AS_IS : maskingView(counter), out, maxChars))
  const shown = out.join('')
  return {
    text: cut ? shown.slice(0, maxChars) + cutNote(body.length) : shown,
    masked: counter.n,
    json: true,
    cut,
  }
}
