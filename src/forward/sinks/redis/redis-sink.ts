import { Redis } from 'ioredis'
import type { RelayEvent } from '../../../core/event.js'
import type { SendResult, Sink } from '../../../core/sink.js'
import { DEFAULT_SEND_TIMEOUT_MS, REDIS_BODY_FIELD } from '../../headers.js'
import { metadataHeaders } from '../../metadata-headers.js'

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
    })
  }

  async send(events: readonly RelayEvent[]): Promise<SendResult> {
    if (events.length === 0) return { delivered: 0 }
    if (!(await this.#ready())) {
      const reason = this.#lastError === undefined ? this.#redis.status : this.#lastError.message
      return { delivered: 0, error: new Error(`Redis is not connected (${reason})`) }
    }
    const pipeline = this.#redis.pipeline()
    for (const event of events) {
      const fields = Object.entries(metadataHeaders(event)).flat()
      // The body goes as a Buffer so the stream holds the exact bytes, not a UTF-8 re-encoding.
      pipeline.xadd(this.#stream, '*', ...fields, REDIS_BODY_FIELD, event.body)
    }
    let results: [Error | null, unknown][] | null
    try {
      results = await pipeline.exec()
    } catch (err) {
      return { delivered: 0, error: new Error(`XADD to Redis failed: ${message(err)}`, { cause: err }) }
    }
    return confirmedPrefix(results ?? [], events.length)
  }

  /**
   * A connection attempt in progress (at start, or a background reconnect) is worth its bounded wait;
   * otherwise a Redis known to be away fails the send at once.
   */
  #ready(): Promise<boolean> {
    const redis = this.#redis
    if (redis.status === 'ready') return Promise.resolve(true)
    if (redis.status !== 'connecting' && redis.status !== 'connect') return Promise.resolve(false)
    return new Promise((resolve) => {
      const settle = (ok: boolean): void => {
        clearTimeout(timer)
        redis.off('ready', onReady)
        redis.off('close', onClose)
        resolve(ok)
      }
      const onReady = (): void => settle(true)
      const onClose = (): void => settle(false)
      const timer = setTimeout(onClose, this.#connectTimeoutMs)
      redis.once('ready', onReady)
      redis.once('close', onClose)
    })
  }

  async close(): Promise<void> {
    // quit() waits for Redis to answer, which never happens while it is down; disconnect() does not wait.
    if (this.#redis.status === 'ready') await this.#redis.quit().catch(() => this.#redis.disconnect())
    else this.#redis.disconnect()
  }
}

function confirmedPrefix(results: readonly [Error | null, unknown][], expected: number): SendResult {
  for (let index = 0; index < expected; index++) {
    const [err, id] = results[index] ?? [new Error('no reply'), null]
    if (err !== null || typeof id !== 'string') {
      const reason = err === null ? `unexpected reply ${String(id)}` : err.message
      return { delivered: index, error: new Error(`XADD to Redis failed: ${reason}`, { cause: err }) }
    }
  }
  return { delivered: expected }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
