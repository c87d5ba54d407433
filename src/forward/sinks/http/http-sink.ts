import type { RelayEvent } from '../../../core/event.js'
import type { SendResult, Sink } from '../../../core/sink.js'
import { contentTypeOf } from '../../content-type.js'
import { DEFAULT_SEND_TIMEOUT_MS, HEADER_SIGNATURE, HEADER_TIMESTAMP } from '../../headers.js'
import { metadataHeaders } from '../../metadata-headers.js'
import { redactUrl } from '../target-url.js'
import { signWebhook } from './webhook-signature.js'

export { parseSigningSecret } from './webhook-signature.js'

export interface HttpSinkOptions {
  /** Decoded Standard Webhooks key (see parseSigningSecret); unset sends unsigned requests. */
  readonly signingSecret?: Buffer | undefined
  readonly timeoutMs?: number | undefined
  /** Clock for the signed timestamp; tests pin it. */
  readonly now?: () => number
}

/** POSTs each event to one URL; a 2xx answer is a delivery. */
export class HttpSink implements Sink {
  readonly kind = 'http'
  readonly target: string
  readonly #url: string
  readonly #authorization: string | undefined
  readonly #key: Buffer | undefined
  readonly #timeoutMs: number
  readonly #now: () => number

  constructor(url: URL, options: HttpSinkOptions = {}) {
    this.target = redactUrl(url)
    // fetch refuses URLs that carry credentials, so user:pass@ becomes HTTP Basic auth.
    const bare = new URL(url)
    if (bare.username !== '' || bare.password !== '') {
      const pair = `${decodeURIComponent(bare.username)}:${decodeURIComponent(bare.password)}`
      this.#authorization = `Basic ${Buffer.from(pair).toString('base64')}`
      bare.username = ''
      bare.password = ''
    }
    this.#url = bare.href
    this.#key = options.signingSecret
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_SEND_TIMEOUT_MS
    this.#now = options.now ?? Date.now
  }

  async send(events: readonly RelayEvent[]): Promise<SendResult> {
    // One at a time: a consumer that sees event n+1 may rely on having seen event n.
    for (const [index, event] of events.entries()) {
      const error = await this.#post(event)
      if (error !== undefined) return { delivered: index, error }
    }
    return { delivered: events.length }
  }

  async close(): Promise<void> {}

  async #post(event: RelayEvent): Promise<Error | undefined> {
    try {
      const response = await fetch(this.#url, {
        method: 'POST',
        headers: this.#headers(event),
        body: event.body,
        // A redirect would turn the POST into a GET elsewhere; the operator should fix the URL instead.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#timeoutMs),
      })
      // Release the connection for keep-alive; the answer body is never read nor reported.
      await response.body?.cancel().catch(() => undefined)
      if (response.status >= 200 && response.status < 300) return undefined
      return new Error(`downstream answered HTTP ${response.status}`)
    } catch (err) {
      if (err instanceof Error && err.name === 'TimeoutError') {
        return new Error(`downstream did not answer within ${this.#timeoutMs} ms`, { cause: err })
      }
      const reason = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err)
      return new Error(`POST to downstream failed: ${reason}`, { cause: err })
    }
  }

  #headers(event: RelayEvent): Record<string, string> {
    const headers = metadataHeaders(event)
    headers['content-type'] = contentTypeOf(event.body)
    if (this.#authorization !== undefined) headers.authorization = this.#authorization
    if (this.#key !== undefined) {
      // Standard Webhooks verifiers reject a timestamp older than 5 minutes, and a backlog can be hours
      // old, so a signed request carries the attempt time; tylt-accepted-at keeps the acceptance time.
      const timestamp = String(Math.floor(this.#now() / 1000))
      headers[HEADER_TIMESTAMP] = timestamp
      headers[HEADER_SIGNATURE] = signWebhook(this.#key, event.id, timestamp, event.body)
    }
    return headers
  }
}
