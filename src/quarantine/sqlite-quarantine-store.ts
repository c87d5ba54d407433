import { existsSync, mkdirSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { QUARANTINE, QUARANTINE_FILE } from '../constants.js'
import {
  type QuarantinedRequest,
  type QuarantineStats,
  type QuarantineStore,
  type QuarantineSummary,
  requestBytes,
} from '../core/quarantine-store.js'

type Statement = Database.Statement<unknown[], unknown>

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS requests (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    received_at INTEGER NOT NULL,
    reason TEXT NOT NULL,
    path TEXT NOT NULL,
    service TEXT,
    source_address TEXT NOT NULL,
    signature TEXT,
    content_type TEXT,
    user_agent TEXT,
    bytes INTEGER NOT NULL,
    body BLOB NOT NULL
  );
  CREATE INDEX IF NOT EXISTS requests_received ON requests (received_at);
  -- The running totals, kept by triggers: trimming to QUARANTINE_MAX_BYTES must not sum every row.
  CREATE TABLE IF NOT EXISTS totals (id INTEGER PRIMARY KEY CHECK (id = 1), count INTEGER NOT NULL, bytes INTEGER NOT NULL);
  INSERT OR IGNORE INTO totals VALUES (1, 0, 0);
  CREATE TRIGGER IF NOT EXISTS requests_added AFTER INSERT ON requests BEGIN
    UPDATE totals SET count = count + 1, bytes = bytes + new.bytes;
  END;
  CREATE TRIGGER IF NOT EXISTS requests_removed AFTER DELETE ON requests BEGIN
    UPDATE totals SET count = count - 1, bytes = bytes - old.bytes;
  END;`

const SUMMARY_COLUMNS = `id, received_at AS receivedAt, reason, path, service, source_address AS sourceAddress,
  signature, content_type AS contentType, user_agent AS userAgent, length(body) AS bytes`

/** Kept reachable for the life of the process: see OPENED in src/store/sqlite-store.ts for why (Node 24). */
const OPENED: Database.Database[] = []

export interface SqliteQuarantineOptions {
  /** The command line refuses to create an empty quarantine where the operator expected one. */
  readonly mustExist?: boolean
  /**
   * How long a statement waits for another connection's lock. The relay's writer waits for nothing (0):
   * it runs on the event loop, so a lock held by an operator's command fails the batch, which is retried.
   */
  readonly busyTimeoutMs?: number
}

/**
 * The quarantine in its own SQLite file in DATA_DIR (not the events database, whose commits and fsyncs
 * answer genuine callbacks). WAL with `synchronous=OFF`: nothing here is ever fsynced, so the operating
 * system decides when it reaches the disk (docs/quarantine.md says what a crash can lose).
 */
export class SqliteQuarantineStore implements QuarantineStore {
  readonly file: string
  readonly #db: Database.Database
  readonly #statements = new Map<string, Statement>()

  constructor(dataDir: string, options: SqliteQuarantineOptions = {}) {
    this.file = join(dataDir, QUARANTINE_FILE)
    if (options.mustExist !== true) mkdirSync(dataDir, { recursive: true })
    this.#db = openDatabase(this.file, options)
    OPENED.push(this.#db)
  }

  #statement(sql: string): Statement {
    let statement = this.#statements.get(sql)
    if (statement === undefined) {
      statement = this.#db.prepare(sql)
      this.#statements.set(sql, statement)
    }
    return statement
  }

  async add(requests: readonly QuarantinedRequest[]): Promise<void> {
    const insert = this.#statement(
      `INSERT INTO requests (id, received_at, reason, path, service, source_address, signature, content_type,
         user_agent, bytes, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    this.#db.transaction(() => {
      for (const r of requests) {
        insert.run(
          r.id,
          r.receivedAt,
          r.reason,
          r.path,
          r.service,
          r.sourceAddress,
          r.signature,
          r.contentType,
          r.userAgent,
          requestBytes(r, QUARANTINE.overheadBytes),
          r.body,
        )
      }
    })()
  }

  async list(limit: number): Promise<QuarantineSummary[]> {
    return this.#statement(`SELECT ${SUMMARY_COLUMNS} FROM requests ORDER BY seq DESC LIMIT ?`).all(
      limit,
    ) as QuarantineSummary[]
  }

  async get(id: string): Promise<QuarantinedRequest | undefined> {
    const row = this.#statement(`SELECT ${SUMMARY_COLUMNS}, body FROM requests WHERE id = ?`).get(id) as
      | (QuarantinedRequest & { bytes?: number })
      | undefined
    if (row === undefined) return undefined
    const { bytes: _bytes, ...request } = row
    return request
  }

  async remove(ids: readonly string[] | 'all'): Promise<number> {
    if (ids === 'all') return this.#statement('DELETE FROM requests').run().changes
    return this.#statement('DELETE FROM requests WHERE id IN (SELECT value FROM json_each(?))').run(
      JSON.stringify(ids),
    ).changes
  }

  async stats(): Promise<QuarantineStats> {
    return this.#statement('SELECT count, bytes FROM totals WHERE id = 1').get() as QuarantineStats
  }

  async trim(maxBytes: number, cutoff: number): Promise<number> {
    return this.#db.transaction(() => {
      let dropped = this.#statement('DELETE FROM requests WHERE received_at < ?').run(cutoff).changes
      const { bytes } = this.#statement('SELECT bytes FROM totals WHERE id = 1').get() as { bytes: number }
      let excess = bytes - maxBytes
      if (excess <= 0) return dropped
      // Oldest first: walk from the oldest row until enough bytes are covered, then delete up to there.
      let last = 0
      for (const row of this.#statement(
        'SELECT seq, bytes FROM requests ORDER BY seq',
      ).iterate() as Iterable<{
        seq: number
        bytes: number
      }>) {
        last = row.seq
        excess -= row.bytes
        if (excess <= 0) break
      }
      dropped += this.#statement('DELETE FROM requests WHERE seq <= ?').run(last).changes
      return dropped
    })()
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close()
  }
}

/**
 * Opens (or creates) the file. A file that is not a database any more (a power cut under `synchronous=OFF`
 * can leave one torn) is moved aside and a new one started: the quarantine must never stop the relay.
 */
function openDatabase(file: string, options: SqliteQuarantineOptions): Database.Database {
  if (options.mustExist === true && !existsSync(file)) {
    throw new Error(`no quarantine at ${file}`)
  }
  const open = () => {
    const db = new Database(file)
    try {
      // exec, not pragma(): pragma() prepares a statement per call, which Node 24 must never collect. The
      // schema is made with patience (a command may hold the lock for a moment); then the chosen timeout.
      db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; PRAGMA busy_timeout = 5000')
      db.exec(`PRAGMA journal_size_limit = ${4 * 1024 * 1024}`)
      db.exec(SCHEMA)
      db.exec(`PRAGMA busy_timeout = ${options.busyTimeoutMs ?? 5_000}`)
      return db
    } catch (err) {
      db.close()
      throw err
    }
  }
  try {
    return open()
  } catch (err) {
    const code = (err as { code?: string }).code
    if (options.mustExist === true || (code !== 'SQLITE_CORRUPT' && code !== 'SQLITE_NOTADB')) throw err
    const aside = `${file}.damaged-${Date.now()}`
    renameSync(file, aside)
    for (const suffix of ['-wal', '-shm'])
      if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix)
    return open()
  }
}
