import type pg from 'pg'
import type { HasDownstream, RelayEvent } from '../../core/event.js'
import { NO_STORE_OBSERVER, type StoreObserver } from '../../core/observers.js'
import { StoreClosedError, StoreUnavailableError } from '../../errors.js'
import { STORE_MAX_WAITING } from '../store-tuning.js'
import { lockKey, WAKE_CHANNEL } from './schema.js'

interface Waiter {
  readonly event: RelayEvent
  resolve(inserted: boolean): void
  reject(error: Error): void
}

/**
 * Statements in flight at once: while one commits (waits for PostgreSQL's WAL flush), the next is already
 * queued behind the append lock, so the flush of one and the transfer of the other overlap.
 */
const STATEMENTS_IN_FLIGHT = 2

/**
 * \`200 ok\` promises that the commit reached the disk: where the database or role turned synchronous_commit
 * off, this transaction turns it on; a stronger setting (waiting for standbys) is kept.
 */
const DURABLE_COMMIT = `CASE current_setting('synchronous_commit') WHEN 'off' THEN 'on'
  ELSE current_setting('synchronous_commit') END`

/**
 * One statement per group: the append lock, the insert of every event of the group, the wake-up of the
 * forwarding replica. The advisory lock makes appends from every replica take their seq and commit one group
 * at a time, so seqs become visible in the order they were assigned: a forwarder that read up to seq N
 * never sees a lower seq commit later (docs/postgres.md, "Acceptance order"). A re-send of a dead letter
 * revives it; the ids returned are the events this statement added or revived, every other one was a
 * duplicate.
 */
const APPEND = `WITH append_lock AS MATERIALIZED (SELECT pg_advisory_xact_lock(${lockKey('append')}),
  set_config('synchronous_commit', ${DURABLE_COMMIT}, true)),
added AS (
  INSERT INTO tylt_events (id, service, accepted_at, signature, order_id, merchant_order_id, status, body,
    retry_since, product, final, recovered, state, deadline)
  SELECT e.* FROM append_lock, unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[],
    $7::text[], $8::bytea[], $3::bigint[], $9::text[], $10::text[], $11::text[], $12::text[], $13::bigint[]) AS e
  ON CONFLICT (id) DO UPDATE SET state = excluded.state, retry_since = excluded.retry_since
    WHERE tylt_events.state = 'dead'
  RETURNING id)
SELECT added.id FROM added CROSS JOIN LATERAL (SELECT pg_notify(${WAKE_CHANNEL}, '')) AS wake`

function columns(events: readonly RelayEvent[], hasDownstream: HasDownstream): unknown[][] {
  const cols: unknown[][] = Array.from({ length: 13 }, () => [])
  for (const e of events) {
    const row: unknown[] = [
      e.id,
      e.service,
      e.acceptedAt,
      e.signature,
      e.orderId,
      e.merchantOrderId,
      e.status,
      e.body,
    ]
    row.push(e.product, e.final, e.recovered, hasDownstream(e.service) ? 'pending' : 'stored', e.deadline)
    for (let i = 0; i < row.length; i++) cols[i]!.push(row[i])
  }
  return cols
}

/** Group commit on PostgreSQL: the appends of one turn of the event loop share one statement and one commit. */
export class GroupAppend {
  readonly #pool: pg.Pool
  readonly #observer: StoreObserver
  readonly #hasDownstream: HasDownstream
  #queue: Waiter[] = []
  #inFlight = 0
  #waitingInFlight = 0
  #scheduled = false
  #closed = false

  constructor(
    pool: pg.Pool,
    observer: StoreObserver = NO_STORE_OBSERVER,
    hasDownstream: HasDownstream = () => true,
  ) {
    this.#pool = pool
    this.#observer = observer
    this.#hasDownstream = hasDownstream
  }

  append(event: RelayEvent): Promise<boolean> {
    if (this.#closed) return Promise.reject(new StoreClosedError())
    // A database that stalls is invisible to the overload guard (the event loop stays idle): refuse at once
    // rather than hold an unbounded queue of requests, and their bodies, waiting for it.
    if (this.#queue.length + this.#waitingInFlight >= STORE_MAX_WAITING) {
      return Promise.reject(new StoreUnavailableError('too many events waiting for a commit'))
    }
    return new Promise<boolean>((resolve, reject) => {
      this.#queue.push({ event, resolve, reject })
      this.#schedule()
    })
  }

  #schedule(): void {
    if (this.#scheduled || this.#queue.length === 0 || this.#inFlight >= STATEMENTS_IN_FLIGHT) return
    this.#scheduled = true
    // After the poll phase, so every request this turn of the event loop read is in the statement.
    setImmediate(() => {
      this.#scheduled = false
      if (this.#queue.length > 0 && this.#inFlight < STATEMENTS_IN_FLIGHT) void this.#commit()
    })
  }

  async #commit(): Promise<void> {
    const waiters = this.#queue
    this.#queue = []
    this.#inFlight++
    this.#waitingInFlight += waiters.length
    // The same callback twice in one group (two replicas' worth of re-sends can meet here too): the first
    // decides, the others are duplicates. One row per id also keeps ON CONFLICT DO UPDATE legal.
    const first = new Map<string, RelayEvent>()
    for (const { event } of waiters) if (!first.has(event.id)) first.set(event.id, event)
    try {
      const { rows } = await this.#pool.query<{ id: string }>({
        name: 'tylt_append',
        text: APPEND,
        values: columns([...first.values()], this.#hasDownstream),
      })
      const added = new Set(rows.map((r) => r.id))
      for (const waiter of waiters) {
        const isFirst = first.get(waiter.event.id) === waiter.event
        waiter.resolve(isFirst && added.has(waiter.event.id))
      }
      this.#observer.onCommitted(waiters.length)
    } catch (err) {
      // Nothing of the statement is known to be committed: refuse these callbacks (503), keep going.
      const error = err as NodeJS.ErrnoException
      const unavailable = new StoreUnavailableError(error.code ?? error.message, { cause: error })
      for (const waiter of waiters) waiter.reject(unavailable)
    } finally {
      this.#inFlight--
      this.#waitingInFlight -= waiters.length
      this.#schedule()
    }
  }

  /** Lets queued appends commit, then refuses new ones. */
  async close(): Promise<void> {
    this.#closed = true
    while (this.#scheduled || this.#inFlight > 0 || this.#queue.length > 0) {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  }
}
