import { STATUS_CODES } from 'node:http'
import { deliveryError } from '../delivery-error.js'
import { excerpt, Refusal } from '../refusal.js'

/**
 * Answers that will never succeed for this event, however often it is sent: the request itself is wrong
 * for this consumer (malformed, too large, not accepted). 408, 429 and 5xx say "later"; a redirect or any
 * other status is treated as an outage too, since retrying loses nothing while the operator fixes it.
 */
export const PERMANENT_STATUSES: ReadonlySet<number> = new Set([400, 401, 403, 404, 410, 413, 422])

/** What an error is made of: the status and the body, as a stream read only as far as needed. */
export type Answer = Pick<Response, 'status' | 'body'>

/** Bytes of an answer's body read for the error message; the rest is never read. */
const BODY_BYTES_READ = 1_024

/** Reads at most BODY_BYTES_READ of the body, then drops the rest. */
async function bodyStart(response: Answer): Promise<string> {
  const reader = response.body?.getReader()
  if (reader === undefined) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    while (size < BODY_BYTES_READ) {
      const { done, value } = await reader.read()
      if (done) break
      chunks.push(value)
      size += value.length
    }
  } catch {
    // A body cut short still says what it said so far.
  } finally {
    await reader.cancel().catch(() => undefined)
  }
  return Buffer.concat(chunks).subarray(0, BODY_BYTES_READ).toString('utf8')
}

/**
 * The error for a non-2xx answer, `HTTP 413 Payload Too Large: <start of the body>`, a Refusal when the
 * status is permanent. `secrets` (the credentials sent) are masked should the consumer echo them.
 */
export async function answerError(response: Answer, secrets: readonly string[]): Promise<Error> {
  const { status } = response
  const said = excerpt(await bodyStart(response), secrets)
  const message = `HTTP ${status} ${STATUS_CODES[status] ?? 'Unknown'}${said === '' ? '' : `: ${said}`}`
  const code = `HTTP_${status}` as const
  if (status >= 300 && status < 400) {
    const hint = 'redirects are not followed; set FORWARD_URL to the final address'
    return deliveryError(code, `${message} (${hint})`)
  }
  return PERMANENT_STATUSES.has(status) ? new Refusal(message, code) : deliveryError(code, message)
}
