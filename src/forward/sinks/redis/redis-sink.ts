import { Redis } from 'ioredis'
import type { RelayEvent } from '../../../core/event.js'
import type { SendResult, Sink, SinkAnswer } from '../../../core/sink.js'
import { DEFAULT_SEND_TIMEOUT_MS, REDIS_BODY_FIELD } from '../../headers.js'
import { metadataHeaders } from '../../metadata-headers.js'
import { type DeliveryCode, deliveryError, systemCode } from '../delivery-error.js'
import { boundedCheck } from '../readiness.js'
import { excerpt, Refusal } from '../refusal.js'
import { abortedError } from '../serial-sink.js'

export interface RedisSinkOptions {
  readonly url: string
  readonly stream: string
  /** Safe for logs (no password). */
  readonly redacted: string
  readonly timeoutMs?: number | undefined
}

/** Caps the background reconnect delay so a returning Redis is used again within a couple of seconds. */
const MAX_RECONNECT_DELAY_MS = 2_000

/** Appends each event to a Redis stream with XADD; an entry id is a delivery. */
export class RedisSink implements Sink {
  readonly kind = 'redis'
  readonly target: string
  readonly #redis: Redis
  readonly #stream: string
  readonly #connectTimeoutMs: number
  #lastError: Error | undefined
  /** The server's proto-max-bulk-len, asked for once per connection; undefined where CONFIG is not allowed. */
  #maxBulk: Promise<number | undefined> | undefined

  constructor(options: RedisSinkOptions) {
    this.target = options.redacted
    this.#stream = options.stream
    const timeoutMs = options.timeoutMs ?? DEFAULT_SEND_TIMEOUT_MS
    this.#connectTimeoutMs = Math.min(timeoutMs, 5_000)
    this.#redis = new Redis(options.url, {
      // Without the offline queue a command fails at once while Redis is away, instead of waiting for it:
      // the forwarder, not the client, decides when to retry (with backoff), and events stay in the store.
      enableOfflineQueue: false,
      connectTimeout: this.#connectTimeoutMs,
      commandTimeout: timeoutMs,
      maxRetriesPerRequest: 0,
      // Never give up: reconnect in the background for as long as the process lives.
      retryStrategy: (times) => Math.min(times * 200, MAX_RECONNECT_DELAY_MS),
      connectionName: 'tylt-relay',
    })
    // ioredis would otherwise print unhandled connection errors; remember the last one for the failure message.
    this.#redis.on('error', (err: Error) => {
      this.#lastError = err
    })
    this.#redis.on('ready', () => {
      this.#lastError = undefined
      this.#maxBulk = undefined
    })
  }

  async send(events: readonly RelayEvent[], signal?: AbortSignal): Promise<SendResult> {
    if (events.length === 0) return { delivered: 0 }
    if (!(await this.#ready(signal))) {
      if (signal?.aborted === true) return { delivered: 0, error: abortedError(signal) }
      const code = systemCode(this.#lastError) ?? 'NOT_CONNECTED'
      return {
        delivered: 0,
        error: deliveryError(code, `Redis is not connected (${this.#notReadyReason()})`),
      }
    }
    // An event over the server's limit is refused before it is sent: Redis would refuse it too, but then
    // closes the connection with the rest of the event unread, and the reset often loses its answer (and
    // the answers to the events before it), which would look like an outage however often it was sent.
    const limit = untilAborted(signal)
    const maxBulk = await Promise.race([this.#maxBulkLength(), limit.promise]).finally(limit.dispose)
    if (maxBulk === 'aborted') return { delivered: 0, error: abortedError(signal!) }
    const tooLarge = maxBulk === undefined ? -1 : events.findIndex((event) => event.body.length > maxBulk)
    if (tooLarge === 0) return tooLargeRefusal(events[0]!, maxBulk!)
    if (tooLarge > 0) {
      const before = await this.send(events.slice(0, tooLarge), signal)
      if (before.delivered < tooLarge || before.error !== undefined) return before
      return { ...tooLargeRefusal(events[tooLarge]!, maxBulk!), delivered: tooLarge }
    }
    const pipeline = this.#redis.pipeline()
    for (const event of events) {
      const fields = Object.entries(metadataHeaders(event)).flat()
      // The body goes as a Buffer so the stream holds the exact bytes, not a UTF-8 re-encoding.
      pipeline.xadd(this.#stream, '*', ...fields, REDIS_BODY_FIELD, event.body)
    }
    // A pipeline cannot be taken back: on abort nothing counts as confirmed, and what Redis appended
    // anyway is sent again after the restart (at least once).
    const aborted = untilAborted(signal)
    let results: [Error | null, unknown][] | null | 'aborted'
    try {
      results = await Promise.race([pipeline.exec(), aborted.promise])
    } catch (err) {
      return {
        delivered: 0,
        error: deliveryError(failureCode(err), `XADD to Redis failed: ${message(err)}`, err),
      }
    } finally {
      aborted.dispose()
    }
    if (results === 'aborted') return { delivered: 0, error: abortedError(signal!) }
    return confirmedPrefix(results ?? [], events.length)
  }

  /** Warns when Redis cannot be reached, or when the stream's key holds something that is not a stream. */
  check(): Promise<string | undefined> {
    const what = `Redis downstream ${this.target}`
    return boundedCheck(what, async () => {
      if (!(await this.#ready())) return `${what} is not reachable (${this.#notReadyReason()})`
      const type = await this.#redis.type(this.#stream)
      if (type === 'none' || type === 'stream') return undefined
      return `${what}: key "${this.#stream}" holds a ${type}, not a stream; every XADD fails (WRONGTYPE)`
    })
  }

  /**
   * `CONFIG GET proto-max-bulk-len` on this connection, asked once. A Redis that does not allow CONFIG (an
   * ACL, a renamed command, a managed service) is left to refuse an oversized event itself.
   */
  #maxBulkLength(): Promise<number | undefined> {
    this.#maxBulk ??= this.#redis.config('GET', 'proto-max-bulk-len').then(
      (reply) => {
        const value = Number((reply as unknown[])[1])
        return Number.isSafeInteger(value) && value > 0 ? value : undefined
      },
      () => undefined,
    )
    return this.#maxBulk
  }

  #notReadyReason(): string {
    return this.#lastError === undefined ? this.#redis.status : this.#lastError.message
  }

  /**
   * A connection attempt in progress (at start, or a background reconnect) is worth its bounded wait;
   * otherwise a Redis known to be away fails the send at once.
   */
  #ready(signal?: AbortSignal): Promise<boolean> {
    const redis = this.#redis
    if (redis.status === 'ready') return Promise.resolve(true)
    if (redis.status !== 'connecting' && redis.status !== 'connect') return Promise.resolve(false)
    if (signal?.aborted === true) return Promise.resolve(false)
    return new Promise((resolve) => {
      const settle = (ok: boolean): void => {
        clearTimeout(timer)
        redis.off('ready', onReady)
        redis.off('close', onClose)
        signal?.removeEventListener('abort', onClose)
        resolve(ok)
      }
      const onReady = (): void => settle(true)
      const onClose = (): void => settle(false)
      const timer = setTimeout(onClose, this.#connectTimeoutMs)
      redis.once('ready', onReady)
      redis.once('close', onClose)
      signal?.addEventListener('abort', onClose, { once: true })
    })
  }

  async close(): Promise<void> {
    // quit() waits for Redis to answer, which never happens while it is down; disconnect() does not wait.
    if (this.#redis.status === 'ready') await this.#redis.quit().catch(() => this.#redis.disconnect())
    else this.#redis.disconnect()
  }
}

/**
 * Redis refuses a command whose argument is longer than its `proto-max-bulk-len` with this, and closes the
 * connection: this event is too large for this Redis, however often it is sent. Every other error (OOM,
 * READONLY, NOAUTH, WRONGTYPE on the stream key...) is about the server or its configuration, not the event.
 */
const TOO_LARGE = /invalid bulk length/i

function tooLargeRefusal(event: RelayEvent, maxBulk: number): SendResult {
  const why = `its ${event.body.length} bytes are over the server's proto-max-bulk-len (${maxBulk})`
  return { delivered: 0, error: new Refusal(`XADD to Redis refused the event: ${why}`), permanent: true }
}

/** The confirmed prefix of a pipeline's replies; each confirmed event's answer is its stream entry id. */
function confirmedPrefix(results: readonly [Error | null, unknown][], expected: number): SendResult {
  const answers: SinkAnswer[] = []
  for (let index = 0; index < expected; index++) {
    const [err, id] = results[index] ?? [new Error('no reply'), null]
    if (err === null && typeof id === 'string') {
      answers.push({ text: id })
      continue
    }
    const reason = excerpt(err === null ? `unexpected reply ${String(id)}` : err.message)
    if (err !== null && TOO_LARGE.test(err.message)) {
      const why = `${reason}: the event is larger than this Redis takes (proto-max-bulk-len)`
      const error = new Refusal(`XADD to Redis refused: ${why}`)
      return { delivered: index, error, permanent: true, answers: [...answers, { text: reason }] }
    }
    const code = err === null ? 'REFUSED_BY_BROKER' : failureCode(err)
    const error = deliveryError(code, `XADD to Redis failed: ${reason}`, err)
    return { delivered: index, error, answers: [...answers, { text: reason }] }
  }
  return { delivered: expected, answers }
}

/** A promise that resolves to 'aborted' when `signal` fires; `dispose` stops listening. */
function untilAborted(signal: AbortSignal | undefined): {
  promise: Promise<'aborted'>
  dispose: () => void
} {
  let onAbort = (): void => undefined
  const promise = new Promise<'aborted'>((resolve) => {
    onAbort = () => resolve('aborted')
    if (signal?.aborted === true) onAbort()
    else signal?.addEventListener('abort', onAbort, { once: true })
  })
  return { promise, dispose: () => signal?.removeEventListener('abort', onAbort) }
}

/** An error reply is Redis saying no (OOM, READONLY, NOAUTH, WRONGTYPE); anything else is the connection. */
function failureCode(err: unknown): DeliveryCode {
  if (err instanceof Error && err.name === 'ReplyError') return 'REFUSED_BY_BROKER'
  if (err instanceof Error && /timed out/i.test(err.message)) return 'TIMEOUT'
  return systemCode(err) ?? 'NOT_CONNECTED'
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
