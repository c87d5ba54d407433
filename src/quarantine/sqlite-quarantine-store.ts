import { existsSync, mkdirSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { QUARANTINE, QUARANTINE_FILE } from '../constants.js'
import {
  type Evictions,
  evictionTarget,
  isReserved,
  type QuarantineBound,
  type QuarantinedRequest,
  type QuarantineStats,
  type QuarantineStore,
  type QuarantineSummary,
  requestBytes,
  UNBOUNDED,
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
  INSERT OR IGNORE INTO totals (id, count, bytes) VALUES (1, 0, 0);
  CREATE TRIGGER IF NOT EXISTS requests_added AFTER INSERT ON requests BEGIN
    UPDATE totals SET count = count + 1, bytes = bytes + new.bytes;
  END;
  CREATE TRIGGER IF NOT EXISTS requests_removed AFTER DELETE ON requests BEGIN
    UPDATE totals SET count = count - 1, bytes = bytes - old.bytes;
  END;`

/**
 * Version 1: whether a request came from a verified source and is reserved (src/core/quarantine-store.ts),
 * and the bytes each source address holds, kept by the triggers, so that eviction finds the largest source
 * through an index instead of summing rows.
 */
const UPGRADE_1 = `
  ALTER TABLE requests ADD COLUMN from_verified_source INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE requests ADD COLUMN reserved INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE totals ADD COLUMN reserved_bytes INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX requests_source ON requests (reserved, source_address, seq);
  CREATE TABLE sources (
    reserved INTEGER NOT NULL,
    source_address TEXT NOT NULL,
    count INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    PRIMARY KEY (reserved, source_address)
  ) WITHOUT ROWID;
  CREATE INDEX sources_bytes ON sources (reserved, bytes);
  INSERT INTO sources SELECT reserved, source_address, count(*), sum(bytes) FROM requests GROUP BY 1, 2;
  DROP TRIGGER requests_added;
  DROP TRIGGER requests_removed;
  CREATE TRIGGER requests_added AFTER INSERT ON requests BEGIN
    UPDATE totals SET count = count + 1, bytes = bytes + new.bytes,
      reserved_bytes = reserved_bytes + new.reserved * new.bytes;
    INSERT INTO sources (reserved, source_address, count, bytes) VALUES (new.reserved, new.source_address, 1, new.bytes)
      ON CONFLICT (reserved, source_address) DO UPDATE SET count = count + 1, bytes = bytes + excluded.bytes;
  END;
  CREATE TRIGGER requests_removed AFTER DELETE ON requests BEGIN
    UPDATE totals SET count = count - 1, bytes = bytes - old.bytes,
      reserved_bytes = reserved_bytes - old.reserved * old.bytes;
    UPDATE sources SET count = count - 1, bytes = bytes - old.bytes
      WHERE reserved = old.reserved AND source_address = old.source_address;
    DELETE FROM sources WHERE reserved = old.reserved AND source_address = old.source_address AND count = 0;
  END;
  PRAGMA user_version = 1;`

const SUMMARY_COLUMNS = `id, received_at AS receivedAt, reason, path, service, source_address AS sourceAddress,
  signature, content_type AS contentType, user_agent AS userAgent,
  from_verified_source = 1 AS fromVerifiedSource, length(body) AS bytes`

/** Kept reachable for the life of the process: see OPENED in src/store/sqlite-store.ts for why (Node 24). */
const OPENED: Database.Database[] = []
const KEPT: Statement[] = []

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

  async add(requests: readonly QuarantinedRequest[], bound = UNBOUNDED): Promise<Evictions> {
    const insert = this.#statement(
      `INSERT INTO requests (id, received_at, reason, path, service, source_address, signature, content_type,
         user_agent, bytes, body, from_verified_source, reserved) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    return this.#db.transaction(() => {
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
          r.fromVerifiedSource ? 1 : 0,
          isReserved(r) ? 1 : 0,
        )
      }
      return this.#trim(bound)
    })()
  }

  async list(limit: number): Promise<QuarantineSummary[]> {
    const rows = this.#statement(`SELECT ${SUMMARY_COLUMNS} FROM requests ORDER BY seq DESC LIMIT ?`).all(
      limit,
    ) as QuarantineSummary[]
    return rows.map((r) => ({ ...r, fromVerifiedSource: Boolean(r.fromVerifiedSource) }))
  }

  async get(id: string): Promise<QuarantinedRequest | undefined> {
    const row = this.#statement(`SELECT ${SUMMARY_COLUMNS}, body FROM requests WHERE id = ?`).get(id) as
      | (QuarantinedRequest & { bytes?: number })
      | undefined
    if (row === undefined) return undefined
    const { bytes: _bytes, fromVerifiedSource, ...request } = row
    return { ...request, fromVerifiedSource: Boolean(fromVerifiedSource) }
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

  async trim(bound: QuarantineBound): Promise<Evictions> {
    return this.#db.transaction(() => this.#trim(bound))()
  }

  /** Within a transaction: what is too old, then evictions in the order of `evictionTarget`. */
  #trim(bound: QuarantineBound): Evictions {
    const expired = this.#statement('DELETE FROM requests WHERE received_at < ?').run(bound.cutoff).changes
    const totals = this.#statement(
      'SELECT bytes, reserved_bytes AS reservedBytes FROM totals WHERE id = 1',
    ).get() as { bytes: number; reservedBytes: number }
    const evicted = { others: 0, reserved: 0 }
    const largest = this.#statement(
      'SELECT source_address AS address FROM sources WHERE reserved = ? ORDER BY bytes DESC LIMIT 1',
    )
    const oldest = this.#statement(
      'SELECT seq, bytes FROM requests WHERE reserved = ? AND source_address = ? ORDER BY seq LIMIT 1',
    )
    const remove = this.#statement('DELETE FROM requests WHERE seq = ?')
    for (let target = evictionTarget(bound, totals); target !== undefined; ) {
      const reserved = target.class === 'reserved' ? 1 : 0
      const source = largest.get(reserved) as { address: string } | undefined
      const row = source && (oldest.get(reserved, source.address) as { seq: number; bytes: number })
      if (row === undefined) break
      remove.run(row.seq)
      totals.bytes -= row.bytes
      if (reserved === 1) totals.reservedBytes -= row.bytes
      evicted[target.class]++
      target = evictionTarget(bound, totals)
    }
    return { expired, evicted: evicted.others, evictedReserved: evicted.reserved }
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
      const version = db.prepare('PRAGMA user_version').pluck()
      KEPT.push(version)
      if (version.get() === 0) db.transaction(() => db.exec(UPGRADE_1))()
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
