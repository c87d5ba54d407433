import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import { TokenBuckets } from '../admission/token-buckets.js'
import { QUARANTINE } from '../constants.js'
import {
  type Evictions,
  type QuarantineDropCause,
  type QuarantinedRequest,
  type QuarantineObserver,
  type QuarantineStore,
  type RefusalObserver,
  type RefusedRequest,
  requestBytes,
} from '../core/quarantine-store.js'
import { FLAT_LINE_REDACT } from '../logger.js'

export type QuarantineLimits = { readonly [K in keyof typeof QUARANTINE]: number }

export interface QuarantineReceiverOptions {
  readonly store: QuarantineStore
  readonly logger: Logger
  /** QUARANTINE_MAX_BYTES and QUARANTINE_MAX_AGE. */
  readonly maxBytes: number
  readonly maxAgeMs: number
  readonly observer?: QuarantineObserver | undefined
  /** The limits of QUARANTINE in constants.ts; tests pass smaller ones. */
  readonly limits?: Partial<QuarantineLimits>
  readonly now?: () => number
}

interface Queued {
  readonly request: RefusedRequest
  readonly bytes: number
}

const NO_OBSERVER: QuarantineObserver = { onQuarantined() {}, onDropped() {}, onStats() {} }

/**
 * Keeps refused requests. `refused()` runs on the path that answers callbacks: it only decides (bounds, rate
 * limits) and queues, and never throws or waits. A timer writes what waits in one transaction, off that path;
 * a write that fails (the file locked by an operator's command, a full disk) is kept and tried again while
 * the queue bounds what waits.
 */
export class QuarantineReceiver implements RefusalObserver {
  readonly #options: QuarantineReceiverOptions
  readonly #limits: QuarantineLimits
  readonly #observer: QuarantineObserver
  readonly #now: () => number
  readonly #perAddress: TokenBuckets
  readonly #allBytes: TokenBuckets
  #queue: Queued[] = []
  #queuedBytes = 0
  #timer: NodeJS.Timeout | undefined
  #timerNow = false
  #writing: Promise<void> | undefined
  #failing = false
  #closed = false
  readonly #maintenance: NodeJS.Timeout
  readonly #dropped = new Map<QuarantineDropCause, number>()
  /** For the line per kept request, whose values are all flat (FLAT_LINE_REDACT): a flood writes many. */
  readonly #keptLog: Logger

  constructor(options: QuarantineReceiverOptions) {
    this.#options = options
    this.#limits = { ...QUARANTINE, ...options.limits }
    this.#observer = options.observer ?? NO_OBSERVER
    this.#keptLog = options.logger.child({}, { redact: FLAT_LINE_REDACT })
    this.#now = options.now ?? Date.now
    const { perAddress, perAddressPerSecond, addresses, burstBytes, bytesPerSecond } = this.#limits
    this.#perAddress = new TokenBuckets(perAddress, perAddressPerSecond, addresses)
    this.#allBytes = new TokenBuckets(burstBytes, bytesPerSecond, 1)
    this.#maintenance = setInterval(() => void this.#maintain(), this.#limits.maintenanceMs).unref()
    void this.#maintain()
  }

  refused(request: RefusedRequest): void {
    try {
      if (this.#closed) return
      const cause = this.#enqueue(request)
      if (cause !== undefined) this.#drop(cause)
    } catch {
      // Never let the quarantine change the answer to the sender.
      this.#drop('write_failed')
    }
  }

  /** Queues the request within the bounds; otherwise says which bound it hit. */
  #enqueue(request: RefusedRequest): QuarantineDropCause | undefined {
    const bytes = requestBytes(request, this.#limits.overheadBytes)
    const now = this.#now()
    if (bytes > this.#options.maxBytes) return 'too_large'
    if (!this.#perAddress.take(request.sourceAddress, now)) return 'rate_limited'
    // The bound on all sources together does not apply to a verified source's requests (a rotation
    // mistake): a flood from other addresses must not turn its quarantine off.
    const allBytes = Math.min(bytes, this.#limits.burstBytes)
    if (!request.fromVerifiedSource && !this.#allBytes.take('*', now, allBytes)) return 'rate_limited'
    if (this.#queuedBytes + bytes > this.#limits.queueMaxBytes) return 'queue_full'
    this.#queue.push({ request, bytes })
    this.#queuedBytes += bytes
    const full = this.#queuedBytes >= this.#limits.flushBytes || this.#queue.length >= this.#limits.flushCount
    this.#schedule(full ? 0 : this.#limits.flushMs)
    return undefined
  }

  /** Requests waiting to be written. */
  get queued(): number {
    return this.#queue.length
  }

  /**
   * Writes what waits now, one batch of about `flushBytes` and at most `flushCount` requests at a time,
   * until nothing does or a write fails (what failed is kept for the next try). Each write holds the event
   * loop: between batches, whatever arrived meanwhile (a genuine callback) goes first.
   */
  async flush(): Promise<void> {
    do {
      this.#writing ??= this.#write().finally(() => {
        this.#writing = undefined
        if (this.#queue.length > 0) this.#schedule(this.#limits.flushMs)
      })
      await this.#writing
      if (this.#queue.length > 0 && !this.#failing) await new Promise((resolve) => setImmediate(resolve))
    } while (this.#queue.length > 0 && !this.#failing)
  }

  /** Where the requests are kept, for the console's list and actions. */
  get store(): QuarantineStore {
    return this.#options.store
  }

  /** Writes what waits (one try), then closes the store. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#maintenance)
    clearTimeout(this.#timer)
    await this.#writing
    await this.flush()
    await this.#options.store.close()
  }

  /** Arms the write timer; a write wanted now replaces a later one, never the other way round. */
  #schedule(delayMs: number): void {
    if (this.#closed && delayMs > 0) return
    if (this.#timer !== undefined) {
      if (delayMs > 0 || this.#timerNow) return
      clearTimeout(this.#timer)
    }
    this.#timerNow = delayMs === 0
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      void this.flush()
    }, delayMs).unref()
  }

  async #write(): Promise<void> {
    if (this.#queue.length === 0) return
    const { store, maxBytes, maxAgeMs, logger } = this.#options
    let taken = 0
    let batchBytes = 0
    const { flushBytes, flushCount } = this.#limits
    while (taken < this.#queue.length && taken < flushCount && (taken === 0 || batchBytes < flushBytes))
      batchBytes += this.#queue[taken++]!.bytes
    const batch = this.#queue.slice(0, taken)
    this.#queue = this.#queue.slice(taken)
    // A batch larger than the whole quarantine keeps its newest requests, as the store would.
    let skipped = 0
    while (batchBytes > maxBytes) {
      batchBytes -= batch[skipped]!.bytes
      skipped++
    }
    if (skipped > 0) {
      this.#queuedBytes -= batch.slice(0, skipped).reduce((sum, q) => sum + q.bytes, 0)
      batch.splice(0, skipped)
      this.#drop('evicted', skipped)
    }
    const kept: QuarantinedRequest[] = batch.map((q) => ({ id: newId(), ...q.request }))
    try {
      // Kept and trimmed in one transaction, so the total never passes QUARANTINE_MAX_BYTES once committed.
      const evicted = await store.add(kept, { maxBytes, cutoff: this.#now() - maxAgeMs })
      this.#queuedBytes -= batchBytes
      this.#dropEvicted(evicted)
      this.#failing = false
    } catch (err) {
      // Kept for the next try, ahead of what arrived meanwhile; the queue's bound still holds.
      this.#queue = [...batch, ...this.#queue]
      if (!this.#failing) logger.warn({ err }, 'quarantine write failed; retrying')
      this.#failing = true
      return
    }
    for (const r of kept) {
      this.#observer.onQuarantined(r.reason, serviceLabel(r))
      // Never the body nor the signature at info: the body holds personal data.
      this.#keptLog.info(
        {
          quarantineId: r.id,
          reason: r.reason,
          path: r.path,
          service: r.service,
          sourceAddress: r.sourceAddress,
        },
        'request quarantined',
      )
    }
    await this.#stats()
  }

  async #maintain(): Promise<void> {
    const { store, maxBytes, maxAgeMs, logger } = this.#options
    if (this.#writing === undefined && !this.#closed) {
      try {
        this.#dropEvicted(await store.trim({ maxBytes, cutoff: this.#now() - maxAgeMs }))
      } catch {
        // Locked or failing: the next round, or the next write, trims.
      }
    }
    await this.#stats()
    if (this.#dropped.size > 0) {
      logger.warn({ dropped: Object.fromEntries(this.#dropped) }, 'refused requests not quarantined')
      this.#dropped.clear()
    }
  }

  async #stats(): Promise<void> {
    if (this.#closed) return
    try {
      this.#observer.onStats(await this.#options.store.stats())
    } catch {
      // The gauges keep their last value.
    }
  }

  #dropEvicted({ expired, evicted, evictedReserved }: Evictions): void {
    if (expired > 0) this.#drop('expired', expired)
    if (evicted > 0) this.#drop('evicted', evicted)
    if (evictedReserved > 0) {
      this.#drop('evicted_verified_source', evictedReserved)
      this.#options.logger.warn(
        { evicted: evictedReserved },
        'quarantined requests from a verified source evicted to stay within QUARANTINE_MAX_BYTES: retry or drop what is kept',
      )
    }
  }

  #drop(cause: QuarantineDropCause, count = 1): void {
    this.#observer.onDropped(cause, count)
    if (cause !== 'expired' && cause !== 'evicted' && cause !== 'evicted_verified_source') {
      this.#dropped.set(cause, (this.#dropped.get(cause) ?? 0) + count)
    }
  }
}

const serviceLabel = (r: QuarantinedRequest): string =>
  r.reason === 'unknown_service' ? 'unknown' : (r.service ?? '*')

const newId = (): string => `q_${randomBytes(10).toString('hex')}`
