import { setTimeout as sleep } from 'node:timers/promises'
import type { StoredEvent } from '../core/event.js'
import type { EventStore } from '../core/event-store.js'
import { downstreamOf, type PlannedDownstream } from '../forward/downstream-plan.js'
import type { ListArgs } from './events-list.js'
import { isoTime } from './text-table.js'

/** What happened to an event: accepted, one delivery attempt ended, or it was queued again. */
export type TailOutcome = 'accepted' | 'delivered' | 'failed' | 'refused' | 'dead' | 'replayed'

export interface TailLine {
  readonly at: string
  readonly outcome: TailOutcome
  readonly id: string
  readonly service: string
  readonly orderId: string | null
  readonly product: string
  readonly merchantOrderId: string | null
  readonly status: string | null
  readonly final: string
  readonly downstream: string | null
  readonly attempts: number
  readonly error: string | null
}

/** Pending events watched for attempts, oldest first: the ones the forwarder tries next. */
const WATCHED = 1000
const PAGE = 500

/**
 * Follows the store by polling it through its port, on either backend: new events by acceptance, and each
 * delivery attempt that ended, from the oldest pending events (which the forwarder tries first) and from
 * events that left the pending line since the last poll.
 */
export class EventsTail {
  readonly #store: EventStore
  readonly #plan: readonly PlannedDownstream[]
  readonly #filter: ListArgs
  #lastSeq = 0
  /** `--since`, for the first poll only; later ones page back by seq to the last event seen. */
  #since: number | undefined
  /** Pending events by id, and the time of the last attempt each had when last seen (0: none). */
  readonly #watched = new Map<string, number>()
  #started = false

  constructor(store: EventStore, plan: readonly PlannedDownstream[], filter: ListArgs) {
    this.#store = store
    this.#plan = plan
    this.#filter = filter
  }

  /** Starts at `since`, or after the newest stored event. */
  async start(since: number | undefined): Promise<void> {
    if (since !== undefined) this.#since = since
    else this.#lastSeq = (await this.#store.list({ limit: 1 }))[0]?.seq ?? 0
  }

  /** One poll: the lines of what happened since the last, in order. */
  async poll(): Promise<TailLine[]> {
    const lines: TailLine[] = []
    const fresh = await this.#fresh()
    const pending = await this.#store.pending({ limit: WATCHED, maxBytes: Number.MAX_SAFE_INTEGER })
    const seen = new Set(fresh.map((e) => e.id))
    for (const event of fresh) {
      lines.push(this.#line(event, 'accepted', event.acceptedAt, this.#planned(event)))
      if (event.state !== 'pending') lines.push(await this.#ended(event))
      else {
        lines.push(...(await this.#failures(event, 0)))
        // Watched from here: it may leave the pending line before the pending query below runs.
        this.#watched.set(event.id, event.lastAttemptAt ?? 0)
      }
    }
    const pendingIds = new Set<string>()
    for (const event of pending) {
      pendingIds.add(event.id)
      const before = this.#watched.get(event.id)
      this.#watched.set(event.id, event.lastAttemptAt ?? 0)
      if (seen.has(event.id)) continue
      if (before === undefined && this.#started)
        lines.push(this.#line(event, 'replayed', event.retrySince, this.#planned(event)))
      else if (before !== undefined && (event.lastAttemptAt ?? 0) > before)
        lines.push(...(await this.#failures(event, before)))
    }
    // A watched event that left the pending line was delivered or became a dead letter.
    if (pending.length < WATCHED)
      for (const id of this.#watched.keys()) {
        if (pendingIds.has(id) || seen.has(id)) continue
        this.#watched.delete(id)
        const event = await this.#store.get(id)
        if (event !== undefined && event.state !== 'pending') lines.push(await this.#ended(event))
      }
    this.#started = true
    return lines.filter((line) => this.#wanted(line))
  }

  /** Events accepted since the last poll, oldest first, paging back until the last one seen. */
  async #fresh(): Promise<StoredEvent[]> {
    const found: StoredEvent[] = []
    let beforeSeq: number | undefined
    for (;;) {
      const page = await this.#store.list({ limit: PAGE, since: this.#since, beforeSeq })
      const newer = page.filter((e) => e.seq > this.#lastSeq)
      found.push(...newer)
      if (page.length < PAGE || newer.length < page.length) break
      beforeSeq = page.at(-1)!.seq
    }
    found.reverse()
    for (const event of found) this.#lastSeq = Math.max(this.#lastSeq, event.seq)
    this.#since = undefined
    return found
  }

  /**
   * A pending event's attempts after `after` (ms), from its kept history, oldest first: each with its own
   * outcome and error, so a delivery before a replay reads as a delivery.
   */
  async #failures(event: StoredEvent, after: number): Promise<TailLine[]> {
    if (event.attempts === 0) return []
    return (await this.#store.attempts(event.id))
      .filter((a) => a.at > after)
      .map((a) => ({ ...this.#line(event, a.outcome, a.at, a.downstream), error: a.error }))
  }

  /** The attempt that ended an event: its delivery, else the failure that made it a dead letter. */
  async #ended(event: StoredEvent): Promise<TailLine> {
    if (event.state === 'delivered')
      return this.#line(event, 'delivered', event.deliveredAt ?? Date.now(), event.deliveredTo)
    const last = (await this.#store.attempts(event.id)).findLast((a) => a.outcome !== 'delivered')
    return this.#line(
      event,
      last?.outcome ?? 'dead',
      last?.at ?? event.lastAttemptAt ?? Date.now(),
      last?.downstream ?? null,
    )
  }

  #planned = (event: StoredEvent) => downstreamOf(this.#plan, event.service)

  #line(event: StoredEvent, outcome: TailOutcome, at: number, downstream: string | null): TailLine {
    return {
      at: new Date(at).toISOString(),
      outcome,
      id: event.id,
      service: event.service,
      orderId: event.orderId,
      product: event.product,
      merchantOrderId: event.merchantOrderId,
      status: event.status,
      final: event.final,
      downstream,
      attempts: event.attempts,
      error: outcome === 'accepted' || outcome === 'delivered' ? null : event.lastError,
    }
  }

  /** The filters of `events list`, applied to each line's event. */
  #wanted(line: TailLine): boolean {
    const f = this.#filter
    return (
      (f.service === undefined || line.service === f.service) &&
      (f.product === undefined || line.product === f.product) &&
      (f.status === undefined || line.status === f.status) &&
      (f.order === undefined || line.merchantOrderId === f.order || line.orderId === f.order)
    )
  }
}

/** One line of `events tail` as a person reads it; `--json` prints the object instead. */
export const tailText = (l: TailLine): string =>
  [
    isoTime(Date.parse(l.at)),
    l.outcome.padEnd(9),
    l.service,
    l.product,
    l.merchantOrderId ?? '-',
    `status ${l.status ?? '-'}`,
    `final ${l.final}`,
    l.downstream ?? '-',
    ...(l.error === null ? [] : [l.error]),
  ].join('  ')

/** Polling interval of `events tail` unless `--interval` says otherwise. */
export const TAIL_INTERVAL_MS = 500

/**
 * `events tail`: prints each line as it happens until `signal` aborts; one poll at a time, `intervalMs`
 * apart. A store that fails a poll ends the command with its error.
 */
export async function tailEvents(
  tail: EventsTail,
  json: boolean,
  out: NodeJS.WritableStream,
  signal: AbortSignal,
  intervalMs: number,
): Promise<void> {
  while (!signal.aborted) {
    for (const line of await tail.poll()) out.write(`${json ? JSON.stringify(line) : tailText(line)}\n`)
    // An abort ends the wait at once; the loop then sees it and returns.
    await sleep(intervalMs, undefined, { signal }).catch(() => undefined)
  }
}
