import type { Agent } from 'node:http'
import type { RelayEvent } from '../../../core/event.js'
import type { SendResult, Sink, SinkAnswer } from '../../../core/sink.js'
import { version } from '../../../version.js'
import { contentTypeOf } from '../../content-type.js'
import { DEFAULT_SEND_TIMEOUT_MS, HEADER_SIGNATURE, HEADER_TIMESTAMP } from '../../headers.js'
import { metadataHeaders } from '../../metadata-headers.js'
import { deliveryError, systemCode } from '../delivery-error.js'
import { boundedCheck, CHECK_TIMEOUT_MS, tcpReachable } from '../readiness.js'
import { Refusal } from '../refusal.js'
import { abortedError } from '../serial-sink.js'
import { redactUrl } from '../target-url.js'
import { answerError, answerText } from './http-answer.js'
import { agentFor, postRequest } from './post-request.js'
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
  readonly #url: URL
  readonly #agent: Agent
  readonly #userAgent = `tylt-relay/${version()}`
  readonly #authorization: string | undefined
  /** What must never appear in an error: the credentials sent, in both their forms. */
  readonly #secrets: readonly string[]
  readonly #key: Buffer | undefined
  readonly #timeoutMs: number
  readonly #now: () => number

  constructor(url: URL, options: HttpSinkOptions = {}) {
    this.target = redactUrl(url)
    // fetch refuses URLs that carry credentials, so user:pass@ becomes HTTP Basic auth.
    const bare = new URL(url)
    const secrets: string[] = []
    if (bare.username !== '' || bare.password !== '') {
      const pair = `${decodeURIComponent(bare.username)}:${decodeURIComponent(bare.password)}`
      const encoded = Buffer.from(pair).toString('base64')
      this.#authorization = `Basic ${encoded}`
      secrets.push(encoded, decodeURIComponent(bare.password))
      bare.username = ''
      bare.password = ''
    }
    this.#secrets = secrets
    this.#url = bare
    this.#agent = agentFor(bare)
    this.#key = options.signingSecret
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_SEND_TIMEOUT_MS
    this.#now = options.now ?? Date.now
  }

  async send(events: readonly RelayEvent[], signal?: AbortSignal): Promise<SendResult> {
    const answers: SinkAnswer[] = []
    // One at a time: a consumer that sees event n+1 may rely on having seen event n.
    for (const [index, event] of events.entries()) {
      if (signal?.aborted === true) return { delivered: index, error: abortedError(signal), answers }
      const started = performance.now()
      const { error, answer } = await this.#post(event, signal)
      answers.push({ ...answer, durationMs: performance.now() - started })
      if (error instanceof Refusal) return { delivered: index, error, permanent: true, answers }
      if (error !== undefined) return { delivered: index, error, answers }
    }
    return { delivered: events.length, answers }
  }

  async close(): Promise<void> {
    this.#agent.destroy()
  }

  /** Warns when nothing accepts a TCP connection at the URL's host and port; sends no request. */
  check(): Promise<string | undefined> {
    const url = this.#url
    const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port)
    const host = url.hostname.replace(/^\[|\]$/g, '')
    const timeoutMs = Math.min(this.#timeoutMs, CHECK_TIMEOUT_MS)
    return boundedCheck(`HTTP downstream ${this.target}`, async () => {
      const reason = await tcpReachable(host, port, timeoutMs)
      return reason === undefined
        ? undefined
        : `HTTP downstream ${this.target} refuses connections (${reason})`
    })
  }

  /** The error when the event was not delivered, and what the downstream answered, when it did. */
  async #post(
    event: RelayEvent,
    signal: AbortSignal | undefined,
  ): Promise<{ error?: Error; answer: { status?: number; text?: string } }> {
    const timeout = AbortSignal.timeout(this.#timeoutMs)
    try {
      // A redirect is never followed (it would turn the POST into a GET elsewhere): the operator fixes the URL.
      const response = await postRequest(this.#url, {
        agent: this.#agent,
        headers: this.#headers(event),
        body: event.body,
        signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
      })
      const status = response.statusCode ?? 0
      const text = await answerText(response, this.#secrets)
      const answer = text === '' ? { status } : { status, text }
      if (status >= 200 && status < 300) return { answer }
      return { error: answerError(status, text), answer }
    } catch (err) {
      if (signal?.aborted === true) return { error: abortedError(signal), answer: {} }
      if (timeout.aborted) {
        const error = deliveryError('TIMEOUT', `downstream did not answer within ${this.#timeoutMs} ms`, err)
        return { error, answer: {} }
      }
      const reason = err instanceof Error ? err.message : String(err)
      const error = deliveryError(systemCode(err) ?? 'ERROR', `POST to downstream failed: ${reason}`, err)
      return { error, answer: {} }
    }
  }

  #headers(event: RelayEvent): Record<string, string> {
    const headers = metadataHeaders(event)
    headers['user-agent'] = this.#userAgent
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
