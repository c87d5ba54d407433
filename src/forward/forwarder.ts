import type { Logger } from 'pino'
import { FORWARD_BATCH_MAX_BYTES } from '../constants.js'
import type { StoredEvent } from '../core/event.js'
import type { EventStore } from '../core/event-store.js'
import type { Sink } from '../core/sink.js'
import type { Metrics } from '../ops/metrics.js'
import { backoffDelay } from './backoff.js'

export interface ForwarderOptions {
  readonly store: EventStore
  readonly sink: Sink
  readonly logger: Logger
  readonly metrics: Metrics
  readonly retryMaxAgeMs: number
  readonly batchSize?: number
  readonly backoffBaseMs?: number
  readonly backoffMaxMs?: number
  /** How often an idle forwarder looks for events queued by another process (`events replay`). */
  readonly idlePollMs?: number
  /** After a batch under a quarter of `batchSize`, how long to let the next one gather. */
  readonly gatherMs?: number
}

/**
 * Moves pending events from the store to the downstream, oldest first, at least once. A failure stops the
 * line: the failed event is retried before anything accepted after it (acceptance order), with exponential
 * backoff, and while backing off only that one event is sent as a probe, never a full batch. An event still
 * failing RETRY_MAX_AGE after acceptance (or replay) becomes a dead letter, and so does every pending event
 * as old as it.
 */
export class Forwarder {
  readonly #options: Required<ForwarderOptions>
  #wake: (() => void) | undefined
  #failures = 0
  #stopping = false
  #draining = false
  #loop: Promise<void> | undefined
  #drained: (() => void) | undefined

  constructor(options: ForwarderOptions) {
    this.#options = {
      batchSize: 1_000,
      backoffBaseMs: 500,
      backoffMaxMs: 30_000,
      idlePollMs: 1_000,
      gatherMs: 10,
      ...options,
    }
  }

  start(): void {
    this.#loop ??= this.#run().catch((err: unknown) =>
      this.#options.logger.fatal({ err }, 'forwarder stopped'),
    )
  }

  /** New events were committed: stop waiting, unless backing off from a failure. */
  notify(): void {
    if (this.#failures === 0) this.#wake?.()
  }

  /** Keeps delivering until nothing is pending or `graceMs` passed, then stops; true when drained. */
  async stop(graceMs: number): Promise<boolean> {
    this.#draining = true
    const drained = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), graceMs)
      this.#drained = () => {
        clearTimeout(timer)
        resolve(true)
      }
      this.#wake?.()
    })
    this.#stopping = true
    this.#wake?.()
    await this.#loop
    await this.#options.sink.close()
    return drained
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        resolve()
      }
      this.#wake = done
    }).finally(() => {
      this.#wake = undefined
    })
  }

  async #run(): Promise<void> {
    const { store, batchSize, idlePollMs, gatherMs, logger } = this.#options
    while (!this.#stopping) {
      let batch: StoredEvent[]
      try {
        batch = await store.pending({
          limit: this.#failures > 0 ? 1 : batchSize,
          maxBytes: FORWARD_BATCH_MAX_BYTES,
        })
      } catch (err) {
        logger.error({ err }, 'cannot read pending events')
        await this.#sleep(idlePollMs)
        continue
      }
      if (batch.length === 0) {
        if (this.#draining) this.#drained?.()
        await this.#sleep(idlePollMs)
        continue
      }
      const small = batch.length < batchSize / 4
      await this.#deliver(batch)
      // A small batch means the forwarder keeps up with intake: let the next one gather for a moment, so
      // the per-batch work (a query, a round trip, an update) is shared by more events. The batch is let go
      // first: events held across the wait would outlive the young generation and fill the old one.
      batch = []
      if (small && this.#failures === 0 && !this.#draining && gatherMs > 0) {
        await new Promise((resolve) => setTimeout(resolve, gatherMs))
      }
    }
  }

  async #deliver(batch: StoredEvent[]): Promise<void> {
    const { store, sink, metrics, logger, retryMaxAgeMs } = this.#options
    const timer = metrics.forwardDuration.labels(sink.kind).startTimer()
    const result = await sink.send(batch)
    timer()
    const now = Date.now()
    if (result.delivered > 0) {
      await store.markDelivered(
        batch.slice(0, result.delivered).map((e) => e.seq),
        now,
        sink.target,
      )
      metrics.forwarded.labels(sink.kind, 'delivered').inc(result.delivered)
    }
    const failed = batch[result.delivered]
    if (result.error === undefined || failed === undefined) {
      this.#failures = 0
      return
    }
    const reason = result.error.message
    await store.recordFailure(failed.seq, now, sink.target, reason)
    metrics.forwarded.labels(sink.kind, 'failed').inc()
    if (now - failed.retrySince >= retryMaxAgeMs) {
      const dead = await store.expire(now - retryMaxAgeMs, sink.target, reason)
      metrics.forwarded.labels(sink.kind, 'dead').inc(dead)
      logger.error({ eventId: failed.id, dead, err: result.error }, 'events became dead letters')
      return
    }
    this.#failures++
    const delay = backoffDelay(this.#failures, this.#options.backoffBaseMs, this.#options.backoffMaxMs)
    logger.warn(
      { eventId: failed.id, attempt: failed.attempts + 1, retryInMs: delay, err: result.error },
      'delivery failed',
    )
    await this.#sleep(delay)
  }
}
