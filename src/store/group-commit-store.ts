import { closeSync, fdatasync, fstatSync, fsyncSync, openSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import type {
  Attempt,
  AttemptAnswer,
  EventState,
  HasDownstream,
  RelayEvent,
  StoredEvent,
} from '../core/event.js'
import type { EventStore, ListQuery, PendingQuery, ReplayScope, StoreStats } from '../core/event-store.js'
import { NO_STORE_OBSERVER, type StoreObserver } from '../core/observers.js'
import { StoreClosedError, StoreUnavailableError } from '../errors.js'
import { corrupted } from './open-errors.js'
import { SqliteStore } from './sqlite-store.js'
import { STORE_MAX_WAITING } from './store-tuning.js'

interface Waiter {
  resolve(inserted: boolean): void
  reject(error: Error): void
}

/** One commit written to the log and waiting for its sync. */
interface Commit {
  readonly waiters: readonly Waiter[]
  readonly inserted: readonly boolean[]
}

/** `fs.fdatasync`'s shape; tests pass one that holds a sync back or fails it. */
export type SyncFile = (fd: number, callback: (err: NodeJS.ErrnoException | null) => void) => void

export interface GroupCommitOptions {
  readonly sync?: SyncFile | undefined
  readonly mustExist?: boolean
  /** Told how many appends each completed sync made durable. */
  readonly observer?: StoreObserver | undefined
  /** Told once when the log cannot be synced: nothing more can be made durable. */
  readonly onFailure?: ((error: Error) => void) | undefined
  /** Which services' events are appended `pending`; the others are `stored`. Every service when absent. */
  readonly hasDownstream?: HasDownstream | undefined
}

/**
 * Syncs in flight at once. With one, the requests that arrive while it runs wait for it to end before their
 * own commit can start its sync, and the event loop idles whenever both groups wait for the disk; two let
 * the next commit's sync start at once (measured: about 10% more callbacks per second, docs/benchmarks.md).
 * More than two gained nothing measurable.
 */
const SYNCS_IN_FLIGHT = 2

/** Events committed since the last checkpoint before the next one (about 3,000 log pages here). */
const CHECKPOINT_EVERY_EVENTS = 500

/** What a webhook is refused with when its event could not be made durable: the error's code, or message. */
function unavailableFor(error: NodeJS.ErrnoException): Error {
  return new StoreUnavailableError(error.code ?? error.message, { cause: error })
}

function syncFolder(path: string): void {
  const fd = openSync(path, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/**
 * The relay's store: SQLite on the event loop's thread, made durable by a sync that runs off it.
 *
 * A commit has two parts. Writing the transaction into the write-ahead log is CPU work of some microseconds
 * per event: SQLite writes the log with plain `write` calls, into the page cache. Making the log durable is
 * an `fdatasync`, which waits for the disk. The connection runs with `synchronous=NORMAL`, so SQLite writes
 * the log but does not sync it on commit; this class syncs it on libuv's thread pool (`fs.fdatasync` on its
 * own descriptor of the log file: a sync flushes the file, whichever descriptor wrote to it) and resolves a
 * commit's appends only once a sync that started after the commit has succeeded. Every acknowledged event
 * is therefore on disk, as with `synchronous=FULL`, and the event loop never waits for the disk. Checkpoints
 * keep SQLite's rules for `NORMAL`: the log is synced before it is copied, the database after.
 *
 * Group commit: the events of one turn of the event loop go into one transaction; while the syncs in flight
 * are at their limit, new events queue, and the next commit takes all of them. The more callbacks arrive,
 * the more each sync covers.
 */
export class GroupCommitStore implements EventStore {
  readonly #store: SqliteStore
  readonly #sync: SyncFile
  readonly #logFile: string
  readonly #logFd: number
  readonly #logInode: number
  #queue: RelayEvent[] = []
  #waiters: Waiter[] = []
  #scheduled = false
  /** Commits written to the log whose sync has not ended, oldest first. */
  #inFlight: Commit[] = []
  #sinceCheckpoint = 0
  #failure: Error | undefined
  #closed = false
  readonly #observer: StoreObserver
  readonly #onFailure: ((error: Error) => void) | undefined

  constructor(dataDir: string, options: GroupCommitOptions = {}) {
    this.#observer = options.observer ?? NO_STORE_OBSERVER
    this.#onFailure = options.onFailure
    this.#store = new SqliteStore(dataDir, {
      manualCheckpoints: true,
      logSyncedByOwner: true,
      mustExist: options.mustExist === true,
      hasDownstream: options.hasDownstream,
    })
    this.#sync = options.sync ?? fdatasync
    // The log file exists from the connection's first write on; the probe is one.
    try {
      this.#store.probe()
    } catch (err) {
      this.#store.close()
      throw corrupted(err, this.#store.file) ?? err
    }
    this.#logFile = `${this.#store.file}-wal`
    this.#logFd = openSync(this.#logFile, 'r')
    this.#logInode = fstatSync(this.#logFd).ino
    // SQLite syncs the folder after creating the log file only at its first sync of the log, which under
    // `NORMAL` is the first checkpoint; until the folder is synced a power cut could lose the new file, and
    // with it every event acknowledged meanwhile. Sync it now, once.
    syncFolder(dirname(this.#logFile))
  }

  append(event: RelayEvent): Promise<boolean> {
    if (this.#closed) return Promise.reject(new StoreClosedError())
    if (this.#failure !== undefined) return Promise.reject(new StoreUnavailableError(this.#failure.message))
    // A disk that stalls is invisible to the overload guard (the event loop stays idle): refuse at once
    // rather than hold an unbounded queue of requests, and their bodies, waiting for it.
    if (this.#waiting() >= STORE_MAX_WAITING) {
      return Promise.reject(new StoreUnavailableError('too many events waiting for a commit'))
    }
    return new Promise<boolean>((resolve, reject) => {
      this.#queue.push(event)
      this.#waiters.push({ resolve, reject })
      this.#schedule()
    })
  }

  /** Appends not answered yet: queued, or committed and waiting for their sync. */
  #waiting(): number {
    let waiting = this.#queue.length
    for (const commit of this.#inFlight) waiting += commit.waiters.length
    return waiting
  }

  #schedule(): void {
    if (this.#scheduled || this.#queue.length === 0 || this.#inFlight.length >= SYNCS_IN_FLIGHT) return
    this.#scheduled = true
    // After the poll phase, so every request this turn of the event loop read is in the commit.
    setImmediate(this.#commit)
  }

  readonly #commit = (): void => {
    this.#scheduled = false
    if (this.#queue.length === 0 || this.#inFlight.length >= SYNCS_IN_FLIGHT) return
    const events = this.#queue
    const waiters = this.#waiters
    this.#queue = []
    this.#waiters = []
    let inserted: boolean[]
    try {
      inserted = this.#store.append(events)
    } catch (err) {
      // Nothing of this transaction was committed (a full disk, say): refuse these callbacks, keep going.
      const unavailable = unavailableFor(err as NodeJS.ErrnoException)
      for (const waiter of waiters) waiter.reject(unavailable)
      this.#schedule()
      return
    }
    const commit: Commit = { waiters, inserted }
    this.#inFlight.push(commit)
    this.#sync(this.#logFd, (err) => this.#synced(commit, err))
  }

  #synced(commit: Commit, err: NodeJS.ErrnoException | null): void {
    if (this.#failure !== undefined) return
    if (err !== null) {
      // After a failed sync the kernel may have dropped the pages it could not write, so no later sync can
      // prove them durable: refuse everything from now on (the owner exits, SQLite recovers on restart).
      this.#fail(err)
      return
    }
    // A sync covers every commit written before it started: its own and all the earlier ones. When a later
    // sync has already ended, this commit was settled with it and this sync proves nothing new.
    if (!this.#inFlight.includes(commit)) return
    let events = 0
    while (this.#inFlight.length > 0) {
      const done = this.#inFlight.shift()!
      for (let i = 0; i < done.waiters.length; i++) done.waiters[i]!.resolve(done.inserted[i] === true)
      events += done.waiters.length
      if (done === commit) break
    }
    if (events === 0) return
    this.#observer.onCommitted(events)
    this.#sinceCheckpoint += events
    if (this.#sinceCheckpoint >= CHECKPOINT_EVERY_EVENTS) this.#checkpoint()
    this.#schedule()
  }

  #checkpoint(): void {
    this.#sinceCheckpoint = 0
    try {
      this.#store.checkpoint()
    } catch {
      // A failed checkpoint loses nothing (the log keeps every commit); SQLite retries past its ceiling.
    }
  }

  #fail(error: NodeJS.ErrnoException): void {
    this.#failure = error
    const unavailable = unavailableFor(error)
    for (const commit of this.#inFlight) for (const waiter of commit.waiters) waiter.reject(unavailable)
    for (const waiter of this.#waiters) waiter.reject(unavailable)
    this.#inFlight = []
    this.#queue = []
    this.#waiters = []
    if (!this.#closed) this.#onFailure?.(error)
  }

  #run<T>(operation: () => T): Promise<T> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure)
    try {
      return Promise.resolve(operation())
    } catch (err) {
      // A page found corrupted by a read says so with the store's path and what to do.
      return Promise.reject(corrupted(err, this.#store.file) ?? err)
    }
  }

  pending(query: PendingQuery): Promise<StoredEvent[]> {
    return this.#run(() => this.#store.pending(query))
  }
  markDelivered(
    seqs: readonly number[],
    at: number,
    downstream: string,
    answers?: readonly AttemptAnswer[],
  ): Promise<void> {
    return this.#run(() => this.#store.markDelivered(seqs, at, downstream, answers))
  }
  recordFailure(
    seq: number,
    at: number,
    downstream: string,
    error: string,
    answer?: AttemptAnswer,
  ): Promise<void> {
    return this.#run(() => this.#store.recordFailure(seq, at, downstream, error, answer))
  }
  markRefused(
    seq: number,
    at: number,
    downstream: string,
    error: string,
    answer?: AttemptAnswer,
  ): Promise<void> {
    return this.#run(() => this.#store.markRefused(seq, at, downstream, error, answer))
  }
  expire(cutoff: number, downstream: string, error: string, services?: readonly string[]): Promise<number> {
    return this.#run(() => this.#store.expire(cutoff, downstream, error, services))
  }
  prune(cutoff: number): Promise<number> {
    return this.#run(() => this.#store.prune(cutoff))
  }
  stats(): Promise<StoreStats> {
    return this.#run(() => this.#store.stats())
  }
  list(query: ListQuery): Promise<StoredEvent[]> {
    return this.#run(() => this.#store.list(query))
  }
  get(id: string): Promise<StoredEvent | undefined> {
    return this.#run(() => this.#store.get(id))
  }
  attempts(id: string): Promise<Attempt[]> {
    return this.#run(() => this.#store.attempts(id))
  }
  replay(ids: readonly string[], now: number): Promise<{ queued: number; missing: string[] }> {
    return this.#run(() => this.#store.replay(ids, now))
  }
  replayState(state: EventState, now: number, scope?: ReplayScope): Promise<number> {
    return this.#run(() => this.#store.replayState(state, now, scope))
  }
  count(state: EventState): Promise<number> {
    return this.#run(() => this.#store.count(state))
  }

  /**
   * Proves the store still takes writes, and that the log this class syncs is still the file SQLite writes
   * (SQLite never replaces it while the database is open; an operator's tool could).
   */
  probe(): Promise<void> {
    return this.#run(() => {
      if (this.#closed) throw new StoreClosedError()
      this.#store.probe()
      if (statSync(this.#logFile).ino !== this.#logInode) {
        throw new Error('the write-ahead log file was replaced while the relay had it open')
      }
    })
  }

  /** Lets queued appends commit and sync, then closes the database. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    while (this.#failure === undefined && (this.#scheduled || this.#inFlight.length > 0)) {
      await new Promise((resolve) => setImmediate(resolve))
    }
    this.#store.close()
    closeSync(this.#logFd)
  }
}
