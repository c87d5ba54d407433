import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs'
import {
  DataDirNotAFolderError,
  DataDirNotWritableError,
  StoreMissingError,
  StoreUnreadableError,
} from '../errors.js'

/** Errno codes of a folder or file this process may not write. */
const NOT_ALLOWED = new Set(['EACCES', 'EPERM', 'EROFS'])

/** SQLite's codes for a file that is not a database, or one whose pages do not add up. */
const UNREADABLE = /^SQLITE_(NOTADB|CORRUPT)/
/** SQLite's codes for a file or folder it may not open or write. */
const NOT_WRITABLE = /^SQLITE_(CANTOPEN|READONLY|PERM|AUTH)/

/**
 * The error for a DATA_DIR this process may not write: it names the folder, the user the process runs as
 * and the fix, since the usual cause is a bind mount owned by another user than the container's.
 */
export function notWritable(dataDir: string, cause: unknown): Error {
  const uid = process.getuid?.() ?? 'unknown'
  const gid = process.getgid?.() ?? 'unknown'
  const code = (cause as NodeJS.ErrnoException).code ?? ''
  const reason = describe(cause)
  const fix =
    code === 'EROFS'
      ? 'It is on a read-only file system: mount it read-write'
      : `Give this user write access to it (for a bind mount, on the host: chown -R ${uid}:${gid} FOLDER), ` +
        'or run the relay as the user that owns it (docker run --user UID:GID)'
  return new DataDirNotWritableError(dataDir, `uid ${uid}, gid ${gid}`, `${reason}. ${fix}`, { cause })
}

/**
 * Before SQLite sees the folder: a store the command line expects must exist, and the folder (where SQLite
 * creates the -wal and -shm files) and the database must be writable.
 */
export function checkDataDir(dataDir: string, file: string, mustExist: boolean): void {
  if (existsSync(dataDir) && !statSync(dataDir).isDirectory())
    throw new DataDirNotAFolderError(dataDir, 'it is a file')
  if (mustExist && !existsSync(file)) throw new StoreMissingError(file)
  try {
    mkdirSync(dataDir, { recursive: true })
    accessSync(dataDir, constants.W_OK | constants.X_OK)
    if (existsSync(file)) accessSync(file, constants.R_OK | constants.W_OK)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? ''
    if (NOT_ALLOWED.has(code)) throw notWritable(dataDir, err)
    // A file where a folder of the path should be (`DATA_DIR=./data.db/store` with data.db a file).
    if (code === 'ENOTDIR' || code === 'EEXIST')
      throw new DataDirNotAFolderError(dataDir, 'a part of its path is a file', { cause: err })
    throw err
  }
}

/** `permission denied (EACCES)` rather than Node's `EACCES: permission denied, access '/data'`. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const code = (err as NodeJS.ErrnoException).code
  const text = err.message.replace(/^E[A-Z]+: /, '').replace(/, \w+ '[^']*'$/, '')
  return code === undefined ? text : `${text} (${code})`
}

/** What SQLite's error at open means for the operator: a corrupted store, a folder not writable, or as is. */
export function openError(err: unknown, dataDir: string, file: string): unknown {
  const code = (err as { code?: unknown }).code
  if (typeof code !== 'string') return err
  if (UNREADABLE.test(code)) return new StoreUnreadableError(file, describe(err), { cause: err })
  if (NOT_WRITABLE.test(code) || NOT_ALLOWED.has(code)) return notWritable(dataDir, err)
  return err
}

/** The store's error for SQLite's corruption codes met after opening; undefined for any other error. */
export function corrupted(err: unknown, file: string): Error | undefined {
  const code = (err as { code?: unknown }).code
  if (typeof code !== 'string' || !UNREADABLE.test(code)) return undefined
  return new StoreUnreadableError(file, describe(err), { cause: err })
}
