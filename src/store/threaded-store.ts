import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads'
import { STORE_MAX_WAITING } from '../constants.js'
import { StoreClosedError, StoreUnavailableError } from '../errors.js'
import type { StoreReply, StoreRequest, StoreWorkerData } from './store-worker.js'
import type { EventStore, NewEvent, StoredEvent, StoreStats } from './types.js'
import { type AppendReply, type AppendRequest, packBatch } from './wire.js'

interface Call {
  resolve(value: unknown): void
  reject(error: Error): void
}
interface Waiter {
  resolve(inserted: boolean): void
  reject(error: Error): void
}

const isSource = import.meta.url.endsWith('.ts')
const WORKER_URL = new URL(isSource ? './store-worker.ts' : './store-worker.js', import.meta.url)

/**
 * Built code runs the worker file as it is. Under vitest the sources are TypeScript, which a worker thread
 * cannot load by itself on Node 20, so a bootstrap registers tsx (a development dependency, resolved from
 * the project folder the tests run in) and then imports the worker.
 */
function spawnWorker(workerData: StoreWorkerData): Worker {
  const options = { workerData, transferList: [workerData.appends] }
  if (!isSource) return new Worker(WORKER_URL, options)
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL.href)}) })`
  return new Worker(bootstrap, { ...options, eval: true })
}

/**
 * The main thread's side of the store. Appends are grouped twice. Here, the events of one turn of the event
 * loop go to the store thread as one batch, at once. There, every batch that arrived while the previous
 * commit was syncing goes into the next transaction. So one fsync covers all the requests that came in
 * meanwhile (group commit), the store thread starts the next commit as soon as one ends, and the event loop
 * never waits on the disk. Batches are committed, and answered, in the order they were sent.
 */
export class ThreadedStore implements EventStore {
  readonly #worker: Worker
  readonly #appends: MessagePort
  readonly #calls = new Map<number, Call>()
  /** Waiters of each batch sent and not yet answered, by batch id. */
  readonly #batches = new Map<number, Waiter[]>()
  #nextId = 1
  #queue: NewEvent[] = []
  #waiters: Waiter[] = []
  #scheduled = false
  #failure: Error | undefined
  #closed = false
  /** Events sent to the store thread and not answered yet. */
  #waiting = 0
  /** Told the size of every commit (the group-commit metric). */
  onCommit: ((events: number) => void) | undefined
  /** Told once when the store thread fails: nothing more can be made durable. */
  onFailure: ((error: Error) => void) | undefined

  private constructor(worker: Worker, appends: MessagePort) {
    this.#worker = worker
    this.#appends = appends
    worker.on('message', (reply: StoreReply) => this.#settle(reply))
    appends.on('message', (reply: AppendReply) => this.#settleAppends(reply))
    worker.on('error', (err) => this.#fail(err))
    worker.on('exit', (code) => this.#fail(new Error(`store thread exited with code ${code}`)))
  }

  /** Starts the store thread and waits until the database is open and migrated. */
  static async open(dataDir: string): Promise<ThreadedStore> {
    const { port1, port2 } = new MessageChannel()
    const worker = spawnWorker({ dataDir, appends: port2 })
    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error) => reject(err)
        worker.once('error', onError)
        worker.once('message', () => {
          worker.off('error', onError)
          resolve()
        })
      })
    } catch (err) {
      port1.close()
      throw err
    }
    return new ThreadedStore(worker, port1)
  }

  #settle(reply: StoreReply): void {
    const call = this.#calls.get(reply.id)
    if (call === undefined) return
    this.#calls.delete(reply.id)
    if (reply.ok) call.resolve(reply.value)
    else call.reject(Object.assign(new Error(reply.message), { code: reply.code }))
  }

  #settleAppends(reply: AppendReply): void {
    const error = reply.ok
      ? undefined
      : new StoreUnavailableError(reply.code ?? reply.message, {
          cause: Object.assign(new Error(reply.message), { code: reply.code }),
        })
    let offset = 0
    let events = 0
    for (const id of reply.ids) {
      const waiters = this.#batches.get(id)
      if (waiters === undefined) continue
      this.#batches.delete(id)
      for (let i = 0; i < waiters.length; i++) {
        if (error !== undefined) waiters[i]!.reject(error)
        else waiters[i]!.resolve(reply.ok && reply.inserted[offset + i] === true)
      }
      offset += waiters.length
      events += waiters.length
    }
    this.#waiting -= events
    if (reply.ok) this.onCommit?.(events)
  }

  #fail(error: Error): void {
    if (this.#failure === undefined && !this.#closed) this.onFailure?.(error)
    this.#failure ??= error
    for (const call of this.#calls.values()) call.reject(error)
    this.#calls.clear()
    const unavailable = new StoreUnavailableError(error.message, { cause: error })
    for (const waiters of this.#batches.values()) for (const waiter of waiters) waiter.reject(unavailable)
    this.#batches.clear()
  }

  #call<T>(op: string, ...args: unknown[]): Promise<T> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure)
    const id = this.#nextId++
    return new Promise<T>((resolve, reject) => {
      this.#calls.set(id, { resolve: resolve as (value: unknown) => void, reject })
      this.#worker.postMessage({ id, op, args } satisfies StoreRequest)
    })
  }

  append(event: NewEvent): Promise<boolean> {
    if (this.#closed) return Promise.reject(new StoreClosedError())
    if (this.#failure !== undefined) return Promise.reject(new StoreUnavailableError(this.#failure.message))
    // A disk that stalls while the event loop is idle is invisible to the overload guard: refuse at once
    // rather than hold an unbounded queue of requests (and their bodies) waiting for it.
    if (this.#waiting + this.#queue.length >= STORE_MAX_WAITING) {
      return Promise.reject(new StoreUnavailableError('too many events waiting for a commit'))
    }
    return new Promise<boolean>((resolve, reject) => {
      this.#queue.push(event)
      this.#waiters.push({ resolve, reject })
      if (!this.#scheduled) {
        this.#scheduled = true
        setImmediate(this.#send)
      }
    })
  }

  /** Sends what this turn of the event loop queued: after the poll phase, so all its requests are in. */
  readonly #send = (): void => {
    this.#scheduled = false
    if (this.#queue.length === 0) return
    const events = this.#queue
    const waiters = this.#waiters
    this.#queue = []
    this.#waiters = []
    if (this.#failure !== undefined) {
      const error = new StoreUnavailableError(this.#failure.message)
      for (const waiter of waiters) waiter.reject(error)
      return
    }
    const id = this.#nextId++
    this.#batches.set(id, waiters)
    this.#waiting += waiters.length
    const batch = packBatch(events)
    this.#appends.postMessage({ id, ...batch } satisfies AppendRequest, [batch.bodies])
  }

  async pending(limit: number): Promise<StoredEvent[]> {
    const rows = await this.#call<StoredEvent[]>('pending', limit)
    // Buffers arrive from the thread as plain Uint8Arrays; wrap them again without copying.
    return rows.map((row) => ({
      ...row,
      body: Buffer.from(row.body.buffer, row.body.byteOffset, row.body.length),
    }))
  }
  markDelivered(seqs: readonly number[], at: number) {
    return this.#call<void>('markDelivered', seqs, at)
  }
  recordFailure(seq: number, at: number, error: string) {
    return this.#call<void>('recordFailure', seq, at, error)
  }
  expire(cutoff: number, error: string) {
    return this.#call<number>('expire', cutoff, error)
  }
  prune(cutoff: number) {
    return this.#call<number>('prune', cutoff)
  }
  stats() {
    return this.#call<StoreStats>('stats')
  }
  probe() {
    return this.#call<void>('probe')
  }

  /** Lets queued appends commit, then closes the database and stops the thread. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    while (this.#scheduled || this.#batches.size > 0) await new Promise((resolve) => setImmediate(resolve))
    if (this.#failure === undefined) await this.#call('close').catch(() => undefined)
    this.#appends.close()
    await this.#worker.terminate()
  }
}
