import { hostname } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { LOCK_FILE, STORE_FILE } from '../constants.js'
import { DataDirInUseError } from '../errors.js'
import { checkDataDir, openError } from './open-errors.js'

/**
 * Lock databases this process opened and their statements, kept reachable for its life: on Node 24 a
 * statement the garbage collector frees aborts the process (see OPENED in sqlite-store.ts).
 */
const KEPT: unknown[] = []

function prepare(db: Database.Database, sql: string): Database.Statement {
  const statement = db.prepare(sql)
  KEPT.push(statement)
  return statement
}

interface Holder {
  readonly pid: number
  readonly host: string
  readonly since: number
}

function describeHolder(db: Database.Database): string {
  try {
    const holder = prepare(db, 'SELECT pid, host, since FROM holder WHERE id = 1').get() as Holder | undefined
    if (holder === undefined) return 'its lock file is held'
    return `pid ${holder.pid} on ${holder.host}, since ${new Date(holder.since).toISOString()}`
  } catch {
    return 'its lock file is held'
  }
}

const isBusy = (err: unknown): boolean => String((err as { code?: unknown }).code).startsWith('SQLITE_BUSY')

/**
 * Keeps a second relay out of a DATA_DIR in use: takes the lock (`DATA_DIR/tylt-relay.lock`) for as long as
 * the process lives, or throws `InUse` (DataDirInUseError unless a command has its own) naming the holder. Returns the function that lets it go.
 *
 * The lock is SQLite's own write lock on a small database of its own, held by a transaction left open: the
 * kernel releases it when the holder exits, however it ends (a SIGKILL, an OOM kill), so a stale lock is
 * never left behind, and nothing depends on process ids, which a container reuses. The event store itself
 * is not locked: the command line (`events`, `store backup`) works beside the running relay.
 */
export function lockDataDir(
  dataDir: string,
  InUse: new (dataDir: string, holder: string) => Error = DataDirInUseError,
): () => void {
  checkDataDir(dataDir, join(dataDir, STORE_FILE), false)
  const file = join(dataDir, LOCK_FILE)
  let db: Database.Database
  try {
    db = new Database(file)
  } catch (err) {
    throw openError(err, dataDir, file)
  }
  KEPT.push(db)
  try {
    db.exec('PRAGMA busy_timeout = 0')
    db.exec('CREATE TABLE IF NOT EXISTS holder (id INTEGER PRIMARY KEY CHECK (id = 1), pid, host, since)')
    prepare(db, 'INSERT OR REPLACE INTO holder (id, pid, host, since) VALUES (1, ?, ?, ?)').run(
      process.pid,
      hostname(),
      Date.now(),
    )
    // Held until release or exit. Other processes can still read who holds it, but none can write.
    db.exec('BEGIN IMMEDIATE')
  } catch (err) {
    const inUse = isBusy(err) ? new InUse(dataDir, describeHolder(db)) : openError(err, dataDir, file)
    db.close()
    throw inUse
  }
  let held = true
  return () => {
    if (!held) return
    held = false
    db.exec('ROLLBACK')
    db.close()
  }
}
