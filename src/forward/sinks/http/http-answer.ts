import { STATUS_CODES } from 'node:http'
import type { Readable } from 'node:stream'
import { deliveryError } from '../delivery-error.js'
import { excerpt, Refusal } from '../refusal.js'

/**
 * Answers that will never succeed for this event, however often it is sent: the request itself is wrong
 * for this consumer (malformed, too large, not accepted). 408, 429 and 5xx say "later"; a redirect or any
 * other status is treated as an outage too, since retrying loses nothing while the operator fixes it.
 */
export const PERMANENT_STATUSES: ReadonlySet<number> = new Set([400, 401, 403, 404, 410, 413, 422])

/** Bytes of an answer's body read for the error message and the attempt's record. */
const BODY_BYTES_READ = 1_024

/**
 * The start of an answer's body, one printable line with `secrets` (the credentials sent) masked, should
 * the consumer echo them. Reads at most BODY_BYTES_READ; the rest is read and dropped without waiting for
 * it, so the connection stays alive for the next request.
 */
export function answerText(body: Readable, secrets: readonly string[]): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    const done = () => {
      body.off('data', onData)
      resolve(excerpt(Buffer.concat(chunks).subarray(0, BODY_BYTES_READ).toString('utf8'), secrets))
    }
    const onData = (chunk: Buffer) => {
      chunks.push(chunk)
      size += chunk.length
      if (size >= BODY_BYTES_READ) done()
    }
    body.on('data', onData)
    // A body cut short still says what it said so far.
    body.once('end', done).once('error', done).once('close', done)
  })
}

/**
 * The error for a non-2xx answer, `HTTP 413 Payload Too Large: <start of the body>`, a Refusal when the
 * status is permanent. `said` is the start of the body (answerText).
 */
export function answerError(status: number, said: string): Error {
  const message = `HTTP ${status} ${STATUS_CODES[status] ?? 'Unknown'}${said === '' ? '' : `: ${said}`}`
  const code = `HTTP_${status}` as const
  if (status >= 300 && status < 400) {
    const hint = 'redirects are not followed; set FORWARD_URL to the final address'
    return deliveryError(code, `${message} (${hint})`)
  }
  return PERMANENT_STATUSES.has(status) ? new Refusal(message, code) : deliveryError(code, message)
}
