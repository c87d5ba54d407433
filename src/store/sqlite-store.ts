import { join } from 'node:path'
import Database from 'better-sqlite3'
import { STORE_FILE } from '../constants.js'
import {
  ATTEMPTS_KEPT,
  type Attempt,
  type AttemptAnswer,
  EVENT_STATES,
  type EventState,
  type HasDownstream,
  NO_ANSWER,
  type RelayEvent,
  type StoredEvent,
} from '../core/event.js'
import {
  type ListQuery,
  likePrefix,
  type PendingQuery,
  type ReplayScope,
  type StoreStats,
} from '../core/event-store.js'
import { checkDataDir, openError } from './open-errors.js'
import { ATTEMPT_COLUMNS, EVENT_COLUMNS, MIGRATIONS } from './schema.js'

/**
 * A state condition written as a literal, from the fixed list only: SQLite uses a partial index
 * (`WHERE state = 'dead'`) only when the query's condition is the same literal, not a bound parameter.
 */
function checkedState(state: EventState): EventState {
  if (!EVENT_STATES.includes(state)) throw new Error(`unknown state ${String(state)}`)
  return state
}

const stateIs = (state: EventState): string => `state = '${checkedState(state)}'`

// Filters without regard to case: lower() on both sides, so that a value always matches itself.
/** `@status`: a JSON list of the status and the `product:id` pairs its label names. */
const STATUS_MATCHES = `(lower(status) IN (SELECT lower(value) FROM json_each(@status))
  OR lower(product || ':' || status) IN (SELECT lower(value) FROM json_each(@status)))`
const ORDER_STARTS = `(lower(order_id) LIKE lower(@order) ESCAPE '\\' OR lower(merchant_order_id) LIKE lower(@order) ESCAPE '\\')`

type Statement = Database.Statement<unknown[], unknown>

/** With manual checkpoints, SQLite's own still runs past this many log pages (40 MB), whatever happens. */
const CHECKPOINT_CEILING_PAGES = 10_000

/**
 * Every store this process opens, kept reachable until it exits, closed or not. On Node 24, better-sqlite3
 * 12 aborts the process (`Assertion failed: (env) != nullptr` in `~Statement`) when the garbage collector
 * frees a statement, even one of a closed connection, and that includes the BEGIN and COMMIT statements it
 * prepares for `transaction()` and keeps as long as their connection is reachable. At exit statements are
 * finalized another way, which is safe. The relay opens one store for its life and each command of the CLI
 * one, so this holds a few kilobytes; a test run opens hundreds.
 */
const OPENED: SqliteStore[] = []

/**
 * The embedded store, synchronous. The command line opens it as it is: WAL with `synchronous=FULL`, which
 * fsyncs the log on every commit. The relay opens it through GroupCommitStore (group-commit-store.ts), which
 * asks for `logSyncedByOwner` and syncs the log itself, off the event loop, before it acknowledges anything.
 */
export class SqliteStore {
  /** The database file; its write-ahead log is this path with `-wal` appended. */
  readonly file: string
  readonly #db: Database.Database
  readonly #insert: Statement
  readonly #delivered: Statement
  readonly #deliveredAttempts: Statement
  readonly #trimAttempts: Statement
  readonly #appendBatch: (events: readonly RelayEvent[]) => boolean[]
  readonly #statements = new Map<string, Statement>()

  /**
   * `mustExist`: the command line refuses to create an empty store where the operator expected one.
   * `manualCheckpoints`: the owner calls `checkpoint()` itself, at a time that suits it (GroupCommitStore
   * does it after acknowledging a commit); SQLite then checkpoints on its own only past a ceiling.
   * `logSyncedByOwner`: `synchronous=NORMAL`, so a commit writes the log without syncing it; only for an
   * owner that syncs the log file (`file` + `-wal`) itself before it tells anyone the commit is durable.
   * `hasDownstream`: which services' events are appended `pending`; the others are `stored`. Every service
   * has one when absent.
   */
  constructor(
    dataDir: string,
    options: {
      readonly mustExist?: boolean
      readonly manualCheckpoints?: boolean
      readonly logSyncedByOwner?: boolean
      readonly hasDownstream?: HasDownstream | undefined
    } = {},
  ) {
    const hasDownstream = options.hasDownstream ?? (() => true)
    this.file = join(dataDir, STORE_FILE)
    checkDataDir(dataDir, this.file, options.mustExist === true)
    try {
      this.#db = new Database(this.file, { fileMustExist: options.mustExist === true })
    } catch (err) {
      throw openError(err, dataDir, this.file)
    }
    // Before anything can fail: a store that failed to open keeps its statements reachable too.
    OPENED.push(this)
    const synchronous = options.logSyncedByOwner === true ? 'NORMAL' : 'FULL'
    try {
      // exec, not pragma(): pragma() prepares a statement per call (see #statement for why that matters).
      this.#db.exec(
        `PRAGMA journal_mode = WAL; PRAGMA synchronous = ${synchronous}; PRAGMA busy_timeout = 5000`,
      )
      if (options.manualCheckpoints === true)
        this.#db.exec(`PRAGMA wal_autocheckpoint = ${CHECKPOINT_CEILING_PAGES}`)
      this.#migrate()
    } catch (err) {
      this.#db.close()
      throw openError(err, dataDir, this.file)
    }
    // A re-send of a dead letter (from Tylt's dashboard, once the downstream is fixed) revives it: pending
    // again, its retry clock restarted, forwarded in its original place. Any other stored id is a duplicate.
    // The conflict branch runs only for a stored id, so a new event costs what DO NOTHING cost.
    this.#insert = this.#db.prepare(
      `INSERT INTO events (id, service, accepted_at, signature, order_id, merchant_order_id, status, body, retry_since,
         product, final, recovered, state, deadline)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET state = excluded.state, retry_since = excluded.retry_since
         WHERE events.state = 'dead'`,
    )
    // One statement for the whole batch the forwarder confirmed: the seqs travel as one JSON array.
    this.#delivered = this.#db.prepare(
      `UPDATE events SET state = 'delivered', delivered_at = @at, attempts = attempts + 1, last_attempt_at = @at,
         delivered_to = @downstream
       WHERE seq IN (SELECT value FROM json_each(@seqs)) AND state = 'pending'`,
    )
    // The batch's attempts, one statement too: each row is `[seq, durationMs, status, answer]`.
    this.#deliveredAttempts = this.#db.prepare(
      `INSERT INTO attempts (event_seq, at, downstream, outcome, duration_ms, status, answer)
         SELECT value ->> 0, @at, @downstream, 'delivered', value ->> 1, value ->> 2, value ->> 3
         FROM json_each(@rows) WHERE value ->> 0 IN (SELECT seq FROM events)`,
    )
    // Keeps the newest ATTEMPTS_KEPT of each event in `@seqs` (a JSON array), whatever their outcome.
    this.#trimAttempts = this.#db.prepare(
      `DELETE FROM attempts WHERE event_seq IN (SELECT value FROM json_each(@seqs)) AND rowid NOT IN
         (SELECT k.rowid FROM attempts k WHERE k.event_seq = attempts.event_seq
            ORDER BY k.at DESC, k.rowid DESC LIMIT ${ATTEMPTS_KEPT})`,
    )
    // One transaction per batch: one fsync however many requests arrived together (group commit).
    this.#appendBatch = this.#db.transaction((events: readonly RelayEvent[]) =>
      events.map(
        (e) =>
          this.#insert.run(
            e.id,
            e.service,
            e.acceptedAt,
            e.signature,
            e.orderId,
            e.merchantOrderId,
            e.status,
            e.body,
            e.acceptedAt,
            e.product,
            e.final,
            e.recovered,
            hasDownstream(e.service) ? 'pending' : 'stored',
            e.deadline,
          ).changes === 1,
      ),
    )
  }

  /**
   * Every statement is prepared once and kept for the life of the connection, and the connection for the
   * life of the process (see OPENED): a statement that is never garbage is never freed by the collector.
   */
  #statement(sql: string): Statement {
    let statement = this.#statements.get(sql)
    if (statement === undefined) {
      statement = this.#db.prepare(sql)
      this.#statements.set(sql, statement)
    }
    return statement
  }

  #migrate(): void {
    const version = this.#statement('PRAGMA user_version').pluck().get() as number
    if (version === MIGRATIONS.length) return
    // A migration that rebuilds the events table drops the old one: with foreign keys enforced, that would
    // delete every attempt through its ON DELETE CASCADE. The pragma is a no-op inside a transaction.
    this.#db.exec('PRAGMA foreign_keys = OFF')
    try {
      for (let v = version; v < MIGRATIONS.length; v++) {
        this.#db.transaction(() => {
          this.#db.exec(MIGRATIONS[v]!)
          this.#db.exec(`PRAGMA user_version = ${v + 1}`)
        })()
      }
    } finally {
      this.#db.exec('PRAGMA foreign_keys = ON')
    }
  }

  /**
   * Commits the batch; per event, true when new (or a dead letter revived) and false when its id was
   * already stored pending or delivered.
   */
  append(events: readonly RelayEvent[]): boolean[] {
    return this.#appendBatch(events)
  }

  /** The oldest pending events, in acceptance order, within the query's count and byte budget. */
  pending(query: PendingQuery): StoredEvent[] {
    const services = query.services === undefined ? '' : 'AND service IN (SELECT value FROM json_each(?))'
    const statement = this.#statement(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE state = 'pending' ${services} ORDER BY seq LIMIT ?`,
    )
    const args = query.services === undefined ? [] : [JSON.stringify(query.services)]
    const batch: StoredEvent[] = []
    let bytes = 0
    // Rows are read one at a time, so a batch of large bodies stops at the budget instead of loading them all.
    for (const row of statement.iterate(...args, query.limit) as IterableIterator<StoredEvent>) {
      bytes += row.body.length
      if (batch.length > 0 && bytes > query.maxBytes) break
      batch.push(row)
    }
    return batch
  }

  /**
   * One transaction and three statements for the whole batch, however large: the state, the `delivered`
   * attempts, and the trim of each history to ATTEMPTS_KEPT.
   */
  markDelivered(
    seqs: readonly number[],
    at: number,
    downstream: string,
    answers?: readonly AttemptAnswer[],
  ): void {
    const rows = seqs.map((seq, i) => {
      const a = answers?.[i] ?? NO_ANSWER
      return [seq, a.durationMs, a.status, a.answer]
    })
    const json = JSON.stringify(seqs)
    this.#db.transaction(() => {
      this.#delivered.run({ at, downstream, seqs: json })
      this.#deliveredAttempts.run({ at, downstream, rows: JSON.stringify(rows) })
      this.#trimAttempts.run({ seqs: json })
    })()
  }

  #attempt(
    seq: number,
    at: number,
    downstream: string,
    outcome: Attempt['outcome'],
    error: string,
    answer: AttemptAnswer,
  ): void {
    this.#statement(
      `INSERT INTO attempts (event_seq, at, downstream, outcome, error, duration_ms, status, answer)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(seq, at, downstream, outcome, error, answer.durationMs, answer.status, answer.answer)
    this.#trimAttempts.run({ seqs: JSON.stringify([seq]) })
  }

  recordFailure(seq: number, at: number, downstream: string, error: string, answer = NO_ANSWER): void {
    this.#db.transaction(() => {
      this.#statement(
        'UPDATE events SET attempts = attempts + 1, last_attempt_at = ?, last_error = ? WHERE seq = ?',
      ).run(at, error, seq)
      this.#attempt(seq, at, downstream, 'failed', error, answer)
    })()
  }

  markRefused(seq: number, at: number, downstream: string, error: string, answer = NO_ANSWER): void {
    this.#db.transaction(() => {
      this.#statement(
        `UPDATE events SET state = 'dead', attempts = attempts + 1, last_attempt_at = ?, last_error = ?
           WHERE seq = ? AND state = 'pending'`,
      ).run(at, error, seq)
      this.#attempt(seq, at, downstream, 'refused', error, answer)
    })()
  }

  expire(cutoff: number, downstream: string, error: string, services?: readonly string[]): number {
    const only = services === undefined ? '' : 'AND service IN (SELECT value FROM json_each(@services))'
    const params = { cutoff, error, downstream, at: Date.now(), services: JSON.stringify(services ?? []) }
    return this.#db.transaction(() => {
      this.#statement(
        `INSERT INTO attempts (event_seq, at, downstream, outcome, error)
           SELECT seq, @at, @downstream, 'dead', @error FROM events
           WHERE state = 'pending' AND retry_since < @cutoff ${only}`,
      ).run(params)
      const seqs = this.#statement(
        `UPDATE events SET state = 'dead', last_error = coalesce(last_error, @error)
           WHERE state = 'pending' AND retry_since < @cutoff ${only} RETURNING seq`,
      )
        .pluck()
        .all(params)
      this.#trimAttempts.run({ seqs: JSON.stringify(seqs) })
      return seqs.length
    })()
  }

  prune(cutoff: number): number {
    return this.#db.transaction(() => {
      this.#statement(
        `DELETE FROM attempts WHERE event_seq IN
           (SELECT seq FROM events WHERE state = 'delivered' AND accepted_at < ?)`,
      ).run(cutoff)
      return this.#statement(`DELETE FROM events WHERE state = 'delivered' AND accepted_at < ?`).run(cutoff)
        .changes
    })()
  }

  stats(): StoreStats {
    return this.#statement(
      `SELECT (SELECT count(*) FROM events WHERE state = 'pending') AS pending,
                (SELECT count(*) FROM events WHERE state = 'dead') AS dead,
                (SELECT accepted_at FROM events WHERE state = 'pending' ORDER BY seq LIMIT 1) AS oldestPendingAt`,
    ).get() as StoreStats
  }

  probe(): void {
    this.#statement(
      'INSERT INTO probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at',
    ).run(Date.now())
  }

  /** Newest first, narrowed by every filter the query sets. */
  list(query: ListQuery): StoredEvent[] {
    const where: string[] = []
    const params: Record<string, unknown> = { limit: query.limit }
    if (query.state !== undefined) where.push(stateIs(query.state))
    const filters: [keyof ListQuery, string][] = [
      ['service', 'service = @service'],
      ['product', 'product = @product'],
      ['status', STATUS_MATCHES],
      ['order', ORDER_STARTS],
      ['recovered', 'recovered = @recovered'],
      ['since', 'accepted_at >= @since'],
      ['until', 'accepted_at < @until'],
      ['beforeSeq', 'seq < @beforeSeq'],
    ]
    for (const [key, condition] of filters) {
      if (query[key] === undefined) continue
      where.push(condition)
      params[key] = query[key]
    }
    if (query.status !== undefined) params.status = JSON.stringify([query.status, ...(query.statusIds ?? [])])
    if (query.order !== undefined) params.order = likePrefix(query.order)
    const clause = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`
    return this.#statement(
      `SELECT ${EVENT_COLUMNS} FROM events ${clause} ORDER BY seq DESC LIMIT @limit`,
    ).all(params) as StoredEvent[]
  }

  get(id: string): StoredEvent | undefined {
    return this.#statement(`SELECT ${EVENT_COLUMNS} FROM events WHERE id = ?`).get(id) as
      | StoredEvent
      | undefined
  }

  attempts(id: string): Attempt[] {
    return this.#statement(
      `SELECT ${ATTEMPT_COLUMNS} FROM attempts WHERE event_seq = (SELECT seq FROM events WHERE id = ?)
         ORDER BY at, rowid`,
    ).all(id) as Attempt[]
  }

  /**
   * Queues events for delivery again, restarting their retry clock. All or nothing: when an id is unknown,
   * nothing is queued and the unknown ids are returned.
   */
  replay(ids: readonly string[], now: number): { queued: number; missing: string[] } {
    const exists = this.#statement('SELECT 1 FROM events WHERE id = ?').pluck()
    const update = this.#statement(
      `UPDATE events SET state = 'pending', retry_since = ?, delivered_at = NULL, delivered_to = NULL WHERE id = ?`,
    )
    return this.#db.transaction(() => {
      const missing = ids.filter((id) => exists.get(id) === undefined)
      if (missing.length > 0) return { queued: 0, missing }
      for (const id of ids) update.run(now, id)
      return { queued: ids.length, missing }
    })()
  }

  replayState(state: EventState, now: number, scope: ReplayScope = {}): number {
    const services =
      scope.services === undefined ? '' : 'AND service IN (SELECT value FROM json_each(@services))'
    const since = scope.since === undefined ? '' : 'AND accepted_at >= @since'
    return this.#statement(
      `UPDATE events SET state = 'pending', retry_since = @now, delivered_at = NULL, delivered_to = NULL
         WHERE state = '${checkedState(state)}' ${services} ${since}`,
    ).run({ now, services: JSON.stringify(scope.services ?? []), since: scope.since ?? 0 }).changes
  }

  count(state: EventState): number {
    return this.#statement(`SELECT count(*) FROM events WHERE ${stateIs(state)}`)
      .pluck()
      .get() as number
  }

  /**
   * Writes a consistent copy of the whole store, log included, to `file` (which must not exist), in one
   * read transaction that never blocks the relay's writes.
   */
  backup(file: string): void {
    this.#statement('VACUUM INTO ?').run(file)
  }

  /**
   * Copies the write-ahead log into the database file (PASSIVE: never waits for, nor blocks, other
   * connections), so that the log can start over from its beginning with the next commit.
   */
  checkpoint(): void {
    this.#statement('PRAGMA wal_checkpoint(PASSIVE)').all()
  }

  close(): void {
    this.#db.close()
  }
}
