import type { DeliveryCode } from './delivery-error.js'

/**
 * The downstream refused this one event in a way no retry can change (an HTTP 413, a message over the
 * broker's size limit): the forwarder dead-letters it and moves on. Any other Error from a send is an
 * outage, retried with backoff. docs/downstreams.md has the table of which answers are which.
 */
export class Refusal extends Error {
  readonly code: DeliveryCode

  constructor(message: string, code: DeliveryCode = 'TOO_LARGE') {
    super(message)
    this.code = code
  }
}

/** Characters of a downstream's answer kept in an error (it is stored with the event and logged). */
const EXCERPT_CHARS = 200

/**
 * A downstream's answer fit for an error message: one line of printable text, at most EXCERPT_CHARS, and
 * without any of `secrets` (a consumer may echo the credentials it was sent).
 */
export function excerpt(text: string, secrets: readonly string[] = []): string {
  let line = text
  for (const secret of secrets) if (secret !== '') line = line.replaceAll(secret, '***')
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
  line = line.replace(/[\u0000-\u001f\u007f-\u009f\s]+/g, ' ').trim()
  return line.length <= EXCERPT_CHARS ? line : `${line.slice(0, EXCERPT_CHARS)}…`
}
