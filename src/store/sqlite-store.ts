import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { STORE_FILE } from '../constants.js'
import { EVENT_COLUMNS, MIGRATIONS } from './schema.js'
import {
  EVENT_STATES,
  type EventState,
  type ListQuery,
  type NewEvent,
  type StoredEvent,
  type StoreStats,
} from './types.js'

/**
 * A state condition written as a literal, from the fixed list only: SQLite uses a partial index
 * (`WHERE state = 'dead'`) only when the query's condition is the same literal, not a bound parameter.
 */
function stateIs(state: EventState | undefined): string {
  if (state === undefined) return ''
  if (!EVENT_STATES.includes(state)) throw new Error(`unknown state ${String(state)}`)
  return `WHERE state = '${state}'`
}

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
  readonly #pending: Statement
  readonly #delivered: Statement
  readonly #appendBatch: (events: readonly NewEvent[]) => boolean[]
  readonly #statements = new Map<string, Statement>()

  /**
   * `mustExist`: the command line refuses to create an empty store where the operator expected one.
   * `manualCheckpoints`: the owner calls `checkpoint()` itself, at a time that suits it (GroupCommitStore
   * does it after acknowledging a commit); SQLite then checkpoints on its own only past a ceiling.
   * `logSyncedByOwner`: `synchronous=NORMAL`, so a commit writes the log without syncing it; only for an
   * owner that syncs the log file (`file` + `-wal`) itself before it tells anyone the commit is durable.
   */
  constructor(
    dataDir: string,
    options: {
      readonly mustExist?: boolean
      readonly manualCheckpoints?: boolean
      readonly logSyncedByOwner?: boolean
    } = {},
  ) {
    if (options.mustExist !== true) mkdirSync(dataDir, { recursive: true })
    this.file = join(dataDir, STORE_FILE)
    this.#db = new Database(this.file, { fileMustExist: options.mustExist === true })
    OPENED.push(this)
    const synchronous = options.logSyncedByOwner === true ? 'NORMAL' : 'FULL'
    // exec, not pragma(): pragma() prepares a statement per call (see #statement for why that matters).
    this.#db.exec(
      `PRAGMA journal_mode = WAL; PRAGMA synchronous = ${synchronous}; PRAGMA busy_timeout = 5000`,
    )
    if (options.manualCheckpoints === true)
      this.#db.exec(`PRAGMA wal_autocheckpoint = ${CHECKPOINT_CEILING_PAGES}`)
    this.#migrate()
    this.#insert = this.#db.prepare(
      `INSERT INTO events (id, service, accepted_at, signature, order_id, merchant_order_id, status, body, retry_since)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    )
    this.#pending = this.#db.prepare(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE state = 'pending' ORDER BY seq LIMIT ?`,
    )
    // One statement for the whole batch the forwarder confirmed: the seqs travel as one JSON array.
    this.#delivered = this.#db.prepare(
      `UPDATE events SET state = 'delivered', delivered_at = @at, attempts = attempts + 1, last_attempt_at = @at
       WHERE seq IN (SELECT value FROM json_each(@seqs)) AND state = 'pending'`,
    )
    // One transaction per batch: one fsync however many requests arrived together (group commit).
    this.#appendBatch = this.#db.transaction((events: readonly NewEvent[]) =>
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
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.#db.transaction(() => {
        this.#db.exec(MIGRATIONS[v]!)
        this.#db.exec(`PRAGMA user_version = ${v + 1}`)
      })()
    }
  }

  /** Commits the batch; per event, true when new and false when its id was already stored. */
  append(events: readonly NewEvent[]): boolean[] {
    return this.#appendBatch(events)
  }

  pending(limit: number): StoredEvent[] {
    return this.#pending.all(limit) as StoredEvent[]
  }

  markDelivered(seqs: readonly number[], at: number): void {
    this.#delivered.run({ at, seqs: JSON.stringify(seqs) })
  }

  recordFailure(seq: number, at: number, error: string): void {
    this.#statement(
      'UPDATE events SET attempts = attempts + 1, last_attempt_at = ?, last_error = ? WHERE seq = ?',
    ).run(at, error, seq)
  }

  expire(cutoff: number, error: string): number {
    return this.#statement(
      `UPDATE events SET state = 'dead', last_error = coalesce(last_error, ?)
         WHERE state = 'pending' AND retry_since < ?`,
    ).run(error, cutoff).changes
  }

  prune(cutoff: number): number {
    return this.#statement(`DELETE FROM events WHERE state = 'delivered' AND accepted_at < ?`).run(cutoff)
      .changes
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

  /** Newest first. */
  list(query: ListQuery): StoredEvent[] {
    return this.#statement(
      `SELECT ${EVENT_COLUMNS} FROM events ${stateIs(query.state)} ORDER BY seq DESC LIMIT ?`,
    ).all(query.limit) as StoredEvent[]
  }

  get(id: string): StoredEvent | undefined {
    return this.#statement(`SELECT ${EVENT_COLUMNS} FROM events WHERE id = ?`).get(id) as
      | StoredEvent
      | undefined
  }

  /**
   * Queues events for delivery again, restarting their retry clock. All or nothing: when an id is unknown,
   * nothing is queued and the unknown ids are returned.
   */
  replay(ids: readonly string[], now: number): { queued: number; missing: string[] } {
    const exists = this.#statement('SELECT 1 FROM events WHERE id = ?').pluck()
    const update = this.#statement(
      `UPDATE events SET state = 'pending', retry_since = ?, delivered_at = NULL WHERE id = ?`,
    )
    return this.#db.transaction(() => {
      const missing = ids.filter((id) => exists.get(id) === undefined)
      if (missing.length > 0) return { queued: 0, missing }
      for (const id of ids) update.run(now, id)
      return { queued: ids.length, missing }
    })()
  }

  replayState(state: EventState, now: number): number {
    return this.#statement(
      `UPDATE events SET state = 'pending', retry_since = ?, delivered_at = NULL ${stateIs(state)}`,
    ).run(now).changes
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
