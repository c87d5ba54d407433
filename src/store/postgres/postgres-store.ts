import type pg from 'pg'
import {
  ATTEMPTS_KEPT,
  type Attempt,
  type AttemptAnswer,
  type EventState,
  type HasDownstream,
  NO_ANSWER,
  type RelayEvent,
  type StoredEvent,
} from '../../core/event.js'
import type { EventStore, ListQuery, PendingQuery, ReplayScope, StoreStats } from '../../core/event-store.js'
import type { ForwardingLease } from '../../core/forwarding-lease.js'
import type { StoreObserver } from '../../core/observers.js'
import { checkedState, LIST_FILTERS, listParameter, pendingQuery } from './event-queries.js'
import { GroupAppend } from './group-append.js'
import { inTransaction } from './in-transaction.js'
import { ATTEMPT_COLUMNS, EVENT_COLUMNS, WAKE_CHANNEL } from './schema.js'

export interface PostgresStoreOptions {
  /** Told how many appends each commit made durable. */
  readonly observer?: StoreObserver
  /** Replicas share the store: only the holder of this lease is handed pending events. Closed with the store. */
  readonly lease?: ForwardingLease
  /** Which services' events are appended `pending`; the others are `stored`. Every service when absent. */
  readonly hasDownstream?: HasDownstream | undefined
}

/** Deletes all but the newest `keep` attempts of each event in `seqs` (an SQL array expression). */
const trimmed = (seqs: string, keep: number): string =>
  `DELETE FROM tylt_attempts WHERE id IN (SELECT id FROM (SELECT id, row_number() OVER
     (PARTITION BY event_seq ORDER BY at DESC, id DESC) AS n FROM tylt_attempts WHERE event_seq = ANY(${seqs})) r
     WHERE n > ${keep})`

/**
 * One statement for the whole batch: the state, a `delivered` attempt per event, and room made in each
 * history first (every statement of it sees the rows as they were before it), so ATTEMPTS_KEPT holds.
 */
const DELIVERED = `WITH delivered AS (
    UPDATE tylt_events SET state = 'delivered', delivered_at = $2, attempts = attempts + 1, last_attempt_at = $2,
      delivered_to = $3
    WHERE seq = ANY($1::bigint[]) AND state = 'pending'),
  room AS (${trimmed('$1::bigint[]', ATTEMPTS_KEPT - 1)})
  INSERT INTO tylt_attempts (event_seq, at, downstream, outcome, duration_ms, status, answer)
    SELECT u.seq, $2, $3, 'delivered', u.duration, u.status, u.answer
    FROM unnest($1::bigint[], $4::int[], $5::int[], $6::text[]) AS u (seq, duration, status, answer)
    JOIN tylt_events e ON e.seq = u.seq`

/**
 * The store on PostgreSQL, shared by any number of replicas: one deduplication window (the unique id), one
 * queue in acceptance order (seq), and the forwarding lease deciding which replica reads it.
 */
export class PostgresStore implements EventStore {
  readonly #pool: pg.Pool
  readonly #appends: GroupAppend
  readonly #lease: ForwardingLease | undefined
  #closed = false

  /** `pool` must be migrated (migrate-schema.ts); the store owns it from now on and closes it. */
  constructor(pool: pg.Pool, options: PostgresStoreOptions = {}) {
    this.#pool = pool
    this.#appends = new GroupAppend(pool, options.observer, options.hasDownstream)
    this.#lease = options.lease
  }

  async #rows<T extends pg.QueryResultRow>(
    text: string,
    values: unknown[] = [],
    name?: string,
  ): Promise<T[]> {
    const query: pg.QueryConfig = name === undefined ? { text, values } : { name, text, values }
    return (await this.#pool.query<T>(query)).rows
  }

  append(event: RelayEvent): Promise<boolean> {
    return this.#appends.append(event)
  }

  async pending(query: PendingQuery): Promise<StoredEvent[]> {
    if (this.#lease !== undefined && !this.#lease.held) return []
    const values: unknown[] = [query.limit, query.maxBytes]
    if (query.services !== undefined) values.push(query.services)
    const name = query.services === undefined ? 'tylt_pending' : 'tylt_pending_services'
    return this.#rows(pendingQuery(query.services !== undefined), values, name)
  }

  async markDelivered(
    seqs: readonly number[],
    at: number,
    downstream: string,
    answers?: readonly AttemptAnswer[],
  ): Promise<void> {
    const kept = seqs.map((_, i) => answers?.[i] ?? NO_ANSWER)
    await this.#rows(
      DELIVERED,
      [
        seqs,
        at,
        downstream,
        kept.map((a) => a.durationMs),
        kept.map((a) => a.status),
        kept.map((a) => a.answer),
      ],
      'tylt_delivered',
    )
  }

  async #attempt(
    client: pg.PoolClient,
    seq: number,
    at: number,
    downstream: string,
    outcome: Attempt['outcome'],
    error: string,
    answer: AttemptAnswer,
  ) {
    await client.query(
      `INSERT INTO tylt_attempts (event_seq, at, downstream, outcome, error, duration_ms, status, answer)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [seq, at, downstream, outcome, error, answer.durationMs, answer.status, answer.answer],
    )
    await client.query(trimmed('ARRAY[$1::bigint]', ATTEMPTS_KEPT), [seq])
  }

  recordFailure(
    seq: number,
    at: number,
    downstream: string,
    error: string,
    answer = NO_ANSWER,
  ): Promise<void> {
    return inTransaction(this.#pool, async (client) => {
      await client.query(
        'UPDATE tylt_events SET attempts = attempts + 1, last_attempt_at = $2, last_error = $3 WHERE seq = $1',
        [seq, at, error],
      )
      await this.#attempt(client, seq, at, downstream, 'failed', error, answer)
    })
  }

  markRefused(seq: number, at: number, downstream: string, error: string, answer = NO_ANSWER): Promise<void> {
    return inTransaction(this.#pool, async (client) => {
      await client.query(
        `UPDATE tylt_events SET state = 'dead', attempts = attempts + 1, last_attempt_at = $2, last_error = $3
           WHERE seq = $1 AND state = 'pending'`,
        [seq, at, error],
      )
      await this.#attempt(client, seq, at, downstream, 'refused', error, answer)
    })
  }

  expire(cutoff: number, downstream: string, error: string, services?: readonly string[]): Promise<number> {
    const only = (n: number) => (services === undefined ? '' : `AND service = ANY($${n}::text[])`)
    const scope = services === undefined ? [] : [services]
    return inTransaction(this.#pool, async (client) => {
      await client.query(
        `INSERT INTO tylt_attempts (event_seq, at, downstream, outcome, error)
           SELECT seq, $2, $3, 'dead', $4 FROM tylt_events WHERE state = 'pending' AND retry_since < $1 ${only(5)}`,
        [cutoff, Date.now(), downstream, error, ...scope],
      )
      const { rows } = await client.query<{ seq: number }>(
        `UPDATE tylt_events SET state = 'dead', last_error = coalesce(last_error, $2)
           WHERE state = 'pending' AND retry_since < $1 ${only(3)} RETURNING seq`,
        [cutoff, error, ...scope],
      )
      await client.query(trimmed('$1::bigint[]', ATTEMPTS_KEPT), [rows.map((r) => r.seq)])
      return rows.length
    })
  }

  async prune(cutoff: number): Promise<number> {
    const result = await this.#pool.query(
      `DELETE FROM tylt_events WHERE state = 'delivered' AND accepted_at < $1`,
      [cutoff],
    )
    return result.rowCount ?? 0
  }

  async stats(): Promise<StoreStats> {
    const [row] = await this.#rows<StoreStats>(
      `SELECT (SELECT count(*) FROM tylt_events WHERE state = 'pending')::int AS pending,
              (SELECT count(*) FROM tylt_events WHERE state = 'dead')::int AS dead,
              (SELECT accepted_at FROM tylt_events WHERE state = 'pending' ORDER BY seq LIMIT 1) AS "oldestPendingAt"`,
      [],
      'tylt_stats',
    )
    return row!
  }

  async probe(): Promise<void> {
    await this.#rows(
      'INSERT INTO tylt_probe (id, at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET at = excluded.at',
      [Date.now()],
      'tylt_probe',
    )
  }

  /** Newest first, narrowed by every filter the query sets. */
  list(query: ListQuery): Promise<StoredEvent[]> {
    const where: string[] = []
    const values: unknown[] = [query.limit]
    for (const [key, condition] of LIST_FILTERS) {
      const value = query[key]
      if (value === undefined) continue
      values.push(key === 'state' ? checkedState(value as EventState) : listParameter(query, key))
      where.push(condition(`$${values.length}`))
    }
    const clause = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`
    return this.#rows(`SELECT ${EVENT_COLUMNS} FROM tylt_events ${clause} ORDER BY seq DESC LIMIT $1`, values)
  }

  async get(id: string): Promise<StoredEvent | undefined> {
    const [row] = await this.#rows<StoredEvent>(`SELECT ${EVENT_COLUMNS} FROM tylt_events WHERE id = $1`, [
      id,
    ])
    return row
  }

  attempts(id: string): Promise<Attempt[]> {
    return this.#rows(
      `SELECT ${ATTEMPT_COLUMNS} FROM tylt_attempts
         WHERE event_seq = (SELECT seq FROM tylt_events WHERE id = $1) ORDER BY at, id`,
      [id],
    )
  }

  /** All or nothing; the forwarding replica is woken at commit, whichever replica or command queued them. */
  replay(ids: readonly string[], now: number): Promise<{ queued: number; missing: string[] }> {
    return inTransaction(this.#pool, async (client) => {
      const { rows } = await client.query<{ id: string }>(
        'SELECT id FROM tylt_events WHERE id = ANY($1::text[])',
        [ids],
      )
      const found = new Set(rows.map((r) => r.id))
      const missing = ids.filter((id) => !found.has(id))
      if (missing.length > 0) return { queued: 0, missing }
      await client.query(
        `UPDATE tylt_events SET state = 'pending', retry_since = $2, delivered_at = NULL, delivered_to = NULL
           WHERE id = ANY($1::text[])`,
        [ids, now],
      )
      await client.query(`SELECT pg_notify(${WAKE_CHANNEL}, '')`)
      return { queued: ids.length, missing }
    })
  }

  replayState(state: EventState, now: number, scope: ReplayScope = {}): Promise<number> {
    return inTransaction(this.#pool, async (client) => {
      const result = await client.query(
        `UPDATE tylt_events SET state = 'pending', retry_since = $2, delivered_at = NULL, delivered_to = NULL
           WHERE state = $1 AND ($3::text[] IS NULL OR service = ANY($3::text[]))
             AND ($4::bigint IS NULL OR accepted_at >= $4)`,
        [checkedState(state), now, scope.services ?? null, scope.since ?? null],
      )
      await client.query(`SELECT pg_notify(${WAKE_CHANNEL}, '')`)
      return result.rowCount ?? 0
    })
  }

  async count(state: EventState): Promise<number> {
    const [row] = await this.#rows<{ n: number }>(
      'SELECT count(*)::int AS n FROM tylt_events WHERE state = $1',
      [checkedState(state)],
    )
    return row!.n
  }

  /** Lets queued appends commit, then closes the connections. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#lease?.close()
    await this.#appends.close()
    await this.#pool.end()
  }
}
