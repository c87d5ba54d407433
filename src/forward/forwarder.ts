import { SHUTDOWN_TAIL_MS } from '../constants.js'
import { describeFailure } from '../core/describe-failure.js'
import { type AttemptAnswer, NO_ANSWER, type StoredEvent } from '../core/event.js'
import type { DownstreamStatus, SendResult } from '../core/sink.js'
import { backoffDelay } from './backoff.js'
import { FailureLog } from './failure-log.js'
import { DRAIN } from './forward-tuning.js'
import { ForwarderHealth } from './forwarder-health.js'
import { type ForwarderOptions, type ResolvedOptions, withDefaults } from './forwarder-options.js'
import { Pause } from './pause.js'
import { steadyClock } from './steady-clock.js'
import { StoreRetry } from './store-retry.js'
import { within } from './within.js'

export type { ForwarderOptions } from './forwarder-options.js'

type Turn = 'next' | 'backoff' | 'stop'

/** What the forwarder keeps of the event that failed: everything but its body. */
type FailedEvent = Pick<StoredEvent, 'seq' | 'id' | 'service' | 'attempts' | 'retrySince'>

/**
 * Moves pending events from the store to the downstream, oldest first, at least once. An outage stops the
 * line: the failed event is retried before anything accepted after it, with exponential backoff, sending
 * only that one event as a probe. A permanent refusal (SendResult.permanent) dead-letters that one event
 * and the line moves on at once. An event still failing RETRY_MAX_AGE after acceptance (or replay) becomes
 * a dead letter, and so does every pending event of this downstream as old as it.
 *
 * Nothing ends the loop but `stop`: a store error (read or write) is logged once, retried with backoff and
 * reported by `notReadyReason` past a bound; past a further bound `onFatal` is told, so the process exits
 * and its supervisor restarts it.
 */
export class Forwarder {
  readonly #options: ResolvedOptions
  readonly #services: readonly string[] | undefined
  readonly #health: ForwarderHealth
  readonly #log: FailureLog
  readonly #pause = new Pause()
  readonly #expiryClock: () => number
  readonly #store: StoreRetry
  #failures = 0
  #stopping = false
  #draining = false
  #endDrain: ((drained: boolean) => void) | undefined
  #loop: Promise<void> | undefined

  constructor(options: ForwarderOptions) {
    this.#options = withDefaults(options)
    const { sink, now, monotonic, storeLimits } = this.#options
    this.#services = options.services
    this.#health = new ForwarderHealth(sink, options.statusServices ?? null, storeLimits, now, monotonic)
    this.#log = new FailureLog(options.logger, { downstream: sink.target })
    this.#expiryClock = steadyClock(now, monotonic)
    this.#store = new StoreRetry(this.#health, this.#log, this.#pause, {
      failed: () => {
        if (this.#draining) this.#endDrain?.(false)
      },
      fatal: (err) => this.#options.onFatal(err),
      stopping: () => this.#stopping,
    })
  }

  get target(): string {
    return this.#options.sink.target
  }

  start(): void {
    this.#loop ??= this.#run().catch((err: unknown) => {
      this.#health.ended(err)
      this.#options.logger.fatal({ err, downstream: this.target }, 'forwarder stopped')
      this.#options.onFatal(err)
    })
  }

  /** New events were committed: stop waiting, unless backing off from a failure. */
  notify(): void {
    if (this.#failures === 0 && !this.#store.failing) this.#pause.wake()
  }

  status(): DownstreamStatus {
    return this.#health.status()
  }

  /** Why the relay should not be ready because of this forwarder; undefined when it may be. */
  notReadyReason(): string | undefined {
    return this.#health.notReadyReason()
  }

  /**
   * Keeps delivering while the downstream makes progress, for at most `graceMs`: until nothing is pending,
   * or an attempt fails (waiting would help nobody; the events are durable), or the grace is over. Then
   * aborts the send in flight and any wait, and closes the sink, all within `graceMs` plus a short tail.
   * Resolves true when nothing was left pending.
   */
  async stop(graceMs: number): Promise<boolean> {
    const { sink, logger, monotonic } = this.#options
    const started = monotonic()
    const deadline = started + graceMs
    this.#draining = true
    const drained = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), graceMs)
      // No delivery for DRAIN.stallMs (a send that hangs, a downstream that answers slowly): stop now.
      const stalled = setInterval(() => {
        const last = Math.max(started, this.#health.lastProgressMono())
        if (monotonic() - last >= DRAIN.stallMs) this.#endDrain?.(false)
      }, 100)
      this.#endDrain = (done) => {
        clearTimeout(timer)
        clearInterval(stalled)
        this.#endDrain = undefined
        resolve(done)
      }
      if (this.#loop === undefined) this.#endDrain?.(false)
      // Backing off: the next attempt runs now, and the drain ends if it fails too.
      this.#pause.wake()
    })
    this.#stopping = true
    this.#pause.abort()
    this.#pause.wake()
    // A sink that honours the signal returns at once with what it confirmed; one that does not is left
    // behind once the grace is over (its events stay pending and are sent again after a restart).
    const left = Math.max(0, deadline - monotonic())
    await within(this.#loop ?? Promise.resolve(), left + SHUTDOWN_TAIL_MS / 2)
    await within(
      sink
        .close()
        .catch((err: unknown) => logger.warn({ ...describeFailure(err) }, 'downstream did not close')),
      SHUTDOWN_TAIL_MS / 2,
    )
    return drained
  }

  async #run(): Promise<void> {
    const { batchSize, idlePollMs, gatherMs } = this.#options
    while (!this.#stopping) {
      let batch = await this.#read()
      if (batch === undefined) continue
      if (batch.length === 0) {
        if (this.#options.lease.held) this.#health.progressed()
        this.#endDrain?.(true)
        if (!this.#stopping) await this.#pause.sleep(idlePollMs)
        continue
      }
      const small = batch.length < batchSize / 4
      const turn = await this.#deliver(batch)
      // #deliver emptied the batch before any wait: bodies held across one would count against the byte
      // budget twice (docs/operations.md, "Memory") and outlive the young generation.
      batch = []
      if (turn === 'stop') return
      if (turn === 'backoff') {
        if (this.#draining) this.#endDrain?.(false)
        const { backoffBaseMs, backoffMaxMs } = this.#options
        await this.#pause.sleep(backoffDelay(this.#failures, backoffBaseMs, backoffMaxMs))
      } else if (small && this.#failures === 0 && !this.#draining && gatherMs > 0) {
        // A small batch means the forwarder keeps up with intake: let the next one gather for a moment, so
        // the per-batch work (a query, a round trip, an update) is shared by more events.
        await this.#pause.sleep(gatherMs)
      }
    }
  }

  #read(): Promise<StoredEvent[] | undefined> {
    const { store, batchSize, maxBytes } = this.#options
    const limit = this.#failures > 0 ? 1 : this.#draining ? Math.min(batchSize, DRAIN.batchSize) : batchSize
    return this.#store.read('read', () => store.pending({ limit, maxBytes, services: this.#services }))
  }

  /** The sink's result, and each answered event's attempt as kept: the send's duration unless the sink timed it. */
  async #send(batch: StoredEvent[]): Promise<{ result: SendResult; answers: AttemptAnswer[] }> {
    const { sink, observer } = this.#options
    const started = performance.now()
    let result: SendResult
    try {
      result = await sink.send(batch, this.#pause.signal)
    } catch (err) {
      // A sink should report failures, not throw them; one that throws is an outage all the same.
      result = { delivered: 0, error: err instanceof Error ? err : new Error(String(err)) }
    }
    const seconds = (performance.now() - started) / 1000
    observer.onSent(seconds)
    const answered = Math.min(batch.length, result.delivered + (result.error === undefined ? 0 : 1))
    const answers = Array.from({ length: answered }, (_, i) => {
      const said = result.answers?.[i]
      return {
        durationMs: Math.round(said?.durationMs ?? seconds * 1000),
        status: said?.status ?? null,
        answer: said?.text ?? null,
      }
    })
    return { result, answers }
  }

  async #deliver(batch: StoredEvent[]): Promise<Turn> {
    const { store, sink, observer } = this.#options
    const { result, answers } = await this.#send(batch)
    const now = this.#options.now()
    const seqs = batch.slice(0, result.delivered).map((e) => e.seq)
    const found = batch[result.delivered]
    const failed: FailedEvent | undefined = found && {
      seq: found.seq,
      id: found.id,
      service: found.service,
      attempts: found.attempts,
      retrySince: found.retrySince,
    }
    // The bodies go now (the caller's array is this one): the store writes below may wait and retry.
    batch.length = 0
    if (seqs.length > 0) {
      if (
        !(await this.#store.write('record deliveries', () =>
          store.markDelivered(seqs, now, sink.target, answers.slice(0, seqs.length)),
        ))
      ) {
        return 'stop'
      }
      observer.onForwarded('delivered', seqs.length)
      this.#health.progressed()
    }
    if (result.error === undefined || failed === undefined) {
      this.#downstreamAnswered()
      return 'next'
    }
    if (this.#pause.signal.aborted) return 'stop'
    const answer = answers[result.delivered] ?? NO_ANSWER
    return result.permanent === true
      ? this.#refused(failed, result.error, now, answer)
      : this.#failed(failed, result.error, now, answer)
  }

  #downstreamAnswered(): void {
    this.#failures = 0
    this.#health.downstreamAnswered()
    this.#log.recovered('delivery', 'downstream accepts events again')
  }

  async #refused(event: FailedEvent, error: Error, now: number, answer: AttemptAnswer): Promise<Turn> {
    const { store, sink, observer, logger } = this.#options
    const { code, message } = describeFailure(error)
    const reason = `${code}: ${message}`
    if (
      !(await this.#store.write('record a refusal', () =>
        store.markRefused(event.seq, now, sink.target, reason, answer),
      ))
    ) {
      return 'stop'
    }
    observer.onForwarded('refused', 1)
    // The downstream answered: it is up, and the line moves on.
    this.#downstreamAnswered()
    this.#health.progressed()
    logger.error(
      { downstream: sink.target, eventId: event.id, service: event.service, code, error: message },
      'downstream refused the event for good; it is a dead letter (events replay to send it again)',
    )
    return 'next'
  }

  async #failed(event: FailedEvent, error: Error, now: number, answer: AttemptAnswer): Promise<Turn> {
    const { store, sink, observer, retryMaxAgeMs } = this.#options
    const { code, message } = describeFailure(error)
    const reason = `${code}: ${message}`
    if (
      !(await this.#store.write('record a failed attempt', () =>
        store.recordFailure(event.seq, now, sink.target, reason, answer),
      ))
    ) {
      return 'stop'
    }
    observer.onForwarded('failed', 1)
    this.#health.downstreamFailed(error)
    this.#failures++
    this.#log.failed('delivery', error, 'delivery failed; retrying with backoff', {
      eventId: event.id,
      attempt: event.attempts + 1,
    })
    // Ages are measured on a clock that a forward jump of the wall clock cannot push (steady-clock.ts).
    const expiryNow = this.#expiryClock()
    if (expiryNow - event.retrySince < retryMaxAgeMs) return 'backoff'
    return this.#expire(event, expiryNow - retryMaxAgeMs, reason)
  }

  async #expire(event: FailedEvent, cutoff: number, reason: string): Promise<Turn> {
    const { store, sink, observer, logger } = this.#options
    let dead = 0
    const ok = await this.#store.write('turn expired events into dead letters', async () => {
      dead = await store.expire(cutoff, sink.target, reason, this.#services)
    })
    if (!ok) return 'stop'
    observer.onForwarded('dead', dead)
    if (dead > 0) this.#health.progressed()
    logger.error(
      { downstream: sink.target, eventId: event.id, dead, error: reason },
      'events failing for longer than RETRY_MAX_AGE became dead letters',
    )
    return 'backoff'
  }
}
