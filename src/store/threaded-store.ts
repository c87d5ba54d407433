import { Worker } from 'node:worker_threads'
import { StoreClosedError, StoreUnavailableError } from '../errors.js'
import type { StoreReply, StoreRequest } from './store-worker.js'
import type { EventStore, NewEvent, StoredEvent, StoreStats } from './types.js'
import { packBatch } from './wire.js'

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
function spawnWorker(dataDir: string): Worker {
  if (!isSource) return new Worker(WORKER_URL, { workerData: { dataDir } })
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL.href)}) })`
  return new Worker(bootstrap, { eval: true, workerData: { dataDir } })
}

/**
 * The main thread's side of the store. Appends are grouped: while one batch is being committed, new events
 * queue up and go together in the next transaction, so one fsync covers many requests (group commit) and
 * the event loop never waits on the disk.
 */
export class ThreadedStore implements EventStore {
  readonly #worker: Worker
  readonly #calls = new Map<number, Call>()
  #nextId = 1
  #queue: NewEvent[] = []
  #waiters: Waiter[] = []
  #committing = false
  #failure: Error | undefined
  #closed = false

  private constructor(worker: Worker) {
    this.#worker = worker
    worker.on('message', (reply: StoreReply) => this.#settle(reply))
    worker.on('error', (err) => this.#fail(err))
    worker.on('exit', (code) => this.#fail(new Error(`store thread exited with code ${code}`)))
  }

  /** Starts the store thread and waits until the database is open and migrated. */
  static async open(dataDir: string): Promise<ThreadedStore> {
    const worker = spawnWorker(dataDir)
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err)
      worker.once('error', onError)
      worker.once('message', () => {
        worker.off('error', onError)
        resolve()
      })
    })
    return new ThreadedStore(worker)
  }

  #settle(reply: StoreReply): void {
    const call = this.#calls.get(reply.id)
    if (call === undefined) return
    this.#calls.delete(reply.id)
    if (reply.ok) call.resolve(reply.value)
    else call.reject(Object.assign(new Error(reply.message), { code: reply.code }))
  }

  #fail(error: Error): void {
    this.#failure ??= error
    for (const call of this.#calls.values()) call.reject(error)
    this.#calls.clear()
  }

  #call<T>(op: string, ...args: unknown[]): Promise<T> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure)
    const id = this.#nextId++
    return new Promise<T>((resolve, reject) => {
      this.#calls.set(id, { resolve: resolve as (value: unknown) => void, reject })
      const batch = op === 'append' ? (args[0] as { bodies: ArrayBuffer }) : undefined
      this.#worker.postMessage({ id, op, args } satisfies StoreRequest, batch ? [batch.bodies] : [])
    })
  }

  append(event: NewEvent): Promise<boolean> {
    if (this.#closed) return Promise.reject(new StoreClosedError())
    if (this.#failure !== undefined) return Promise.reject(new StoreUnavailableError(this.#failure.message))
    return new Promise<boolean>((resolve, reject) => {
      this.#queue.push(event)
      this.#waiters.push({ resolve, reject })
      if (!this.#committing) {
        this.#committing = true
        setImmediate(() => this.#commit())
      }
    })
  }

  /** Commits everything queued, then whatever queued meanwhile, until the queue is empty. */
  #commit(): void {
    const events = this.#queue
    const waiters = this.#waiters
    if (events.length === 0) {
      this.#committing = false
      return
    }
    this.#queue = []
    this.#waiters = []
    this.#call<boolean[]>('append', packBatch(events)).then(
      (inserted) => {
        for (let i = 0; i < waiters.length; i++) waiters[i]!.resolve(inserted[i] === true)
        this.#commit()
      },
      (err: Error) => {
        const error = new StoreUnavailableError((err as NodeJS.ErrnoException).code ?? err.message, {
          cause: err,
        })
        for (const waiter of waiters) waiter.reject(error)
        this.#commit()
      },
    )
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
    while (this.#committing) await new Promise((resolve) => setImmediate(resolve))
    if (this.#failure === undefined) await this.#call('close').catch(() => undefined)
    await this.#worker.terminate()
  }
}
