import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdtempSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs'
import { basename, dirname, join } from 'node:path'
import Database from 'better-sqlite3'
import { SqliteStore } from './sqlite-store.js'

export interface BackupSummary {
  readonly source: string
  readonly target: string
  readonly bytes: number
  readonly events: number
  readonly pending: number
  readonly dead: number
}

/** The backup's databases and statements, reachable for the life of the process (see OPENED in sqlite-store.ts). */
const KEPT: unknown[] = []

function syncPath(path: string): void {
  const fd = openSync(path, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** Reads the copy back: SQLite's integrity check must pass, and the counts are what the summary reports. */
function verify(file: string): { events: number; pending: number; dead: number } {
  const db = new Database(file, { readonly: true, fileMustExist: true })
  KEPT.push(db)
  try {
    const check = db.prepare('PRAGMA quick_check').pluck()
    const counts = db.prepare(
      `SELECT count(*) AS events, count(*) FILTER (WHERE state = 'pending') AS pending,
              count(*) FILTER (WHERE state = 'dead') AS dead FROM events`,
    )
    KEPT.push(check, counts)
    const verdict = check.get()
    if (verdict !== 'ok') throw new Error(`the copy failed its integrity check: ${String(verdict)}`)
    return counts.get() as { events: number; pending: number; dead: number }
  } finally {
    db.close()
  }
}

/**
 * Copies the store in DATA_DIR to `target` while the relay runs, as one consistent snapshot (SQLite's
 * `VACUUM INTO` reads in one transaction, so events committed meanwhile are either all in it or not, and the
 * relay is never blocked). The copy is written beside the target, synced, checked, then renamed into place:
 * a file at `target` is always a complete backup. Never overwrites.
 */
export function backupStore(dataDir: string, target: string): BackupSummary {
  if (existsSync(target))
    throw new Error(`${target} exists; a backup never overwrites a file: give a new name`)
  const store = new SqliteStore(dataDir, { mustExist: true })
  const work = mkdtempSync(join(dirname(target), `.${basename(target)}-`))
  const partial = join(work, 'backup.sqlite')
  try {
    store.backup(partial)
    syncPath(partial)
    const counts = verify(partial)
    renameSync(partial, target)
    syncPath(dirname(target))
    return { source: store.file, target, bytes: statSync(target).size, ...counts }
  } finally {
    store.close()
    rmSync(work, { recursive: true, force: true })
  }
}
