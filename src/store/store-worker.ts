import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads'
import { SqliteStore } from './sqlite-store.js'
import { type AppendReply, type AppendRequest, unpackBatch } from './wire.js'

/**
 * The store thread. It owns the database so that the fsync of each commit blocks this thread, not the event
 * loop that answers Tylt. Requests are answered in the order they arrive.
 */
export interface StoreRequest {
  readonly id: number
  readonly op: string
  readonly args: readonly unknown[]
}
export type StoreReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly message: string; readonly code: string | undefined }

export interface StoreWorkerData {
  readonly dataDir: string
  /** The channel of new events (see wire.ts), apart from every other operation. */
  readonly appends: MessagePort
}

const port = parentPort!
const { dataDir, appends } = workerData as StoreWorkerData
const store = new SqliteStore(dataDir, { manualCheckpoints: true })

const operations: Record<string, (...args: never[]) => unknown> = {
  pending: (limit: number) => store.pending(limit),
  markDelivered: (seqs: number[], at: number) => store.markDelivered(seqs, at),
  recordFailure: (seq: number, at: number, error: string) => store.recordFailure(seq, at, error),
  expire: (cutoff: number, error: string) => store.expire(cutoff, error),
  prune: (cutoff: number) => store.prune(cutoff),
  stats: () => store.stats(),
  probe: () => store.probe(),
  close: () => store.close(),
}

port.on('message', (request: StoreRequest) => {
  let reply: StoreReply
  try {
    const operation = operations[request.op]
    if (operation === undefined) throw new Error(`unknown store operation ${request.op}`)
    reply = { id: request.id, ok: true, value: operation(...(request.args as never[])) }
  } catch (err) {
    const error = err as NodeJS.ErrnoException
    reply = { id: request.id, ok: false, message: error.message, code: error.code }
  }
  port.postMessage(reply)
  if (request.op === 'close') appends.close()
  if (request.op === 'close') port.close()
})

/**
 * Events committed since the last checkpoint before the next one is run: about a thousand log pages, what
 * SQLite's own automatic checkpoint waits for, but run here after the commit's answer is on its way, so no
 * request waits for the copy it triggers.
 */
const CHECKPOINT_EVERY_EVENTS = 500

let waiting: AppendRequest[] = []
let sinceCheckpoint = 0

/** Takes every batch already sent off the channel, without waiting for more. */
function collect(): void {
  for (let next = receiveMessageOnPort(appends); next !== undefined; next = receiveMessageOnPort(appends)) {
    waiting.push(next.message as AppendRequest)
  }
}

function commit(requests: AppendRequest[]): void {
  const ids = requests.map((request) => request.id)
  let reply: AppendReply
  try {
    const events = requests.length === 1 ? unpackBatch(requests[0]!) : requests.flatMap(unpackBatch)
    reply = { ids, ok: true, inserted: store.append(events) }
    sinceCheckpoint += events.length
  } catch (err) {
    const error = err as NodeJS.ErrnoException
    reply = { ids, ok: false, message: error.message, code: error.code }
  }
  appends.postMessage(reply)
}

/**
 * Group commit across batches: every batch that arrived while the previous commit was syncing is taken off
 * the channel and committed in the same transaction, so one fsync covers all of them, however many turns of
 * the main thread's event loop they came from. One commit per turn of this thread's loop, so the other
 * operations (the forwarder's, the metrics') are answered between commits even under sustained load.
 */
function drain(): void {
  collect()
  const requests = waiting
  waiting = []
  commit(requests)
  if (sinceCheckpoint >= CHECKPOINT_EVERY_EVENTS) {
    sinceCheckpoint = 0
    try {
      store.checkpoint()
    } catch {
      // A failed checkpoint loses nothing (the log keeps every commit); SQLite retries past its ceiling.
    }
  }
  collect()
  if (waiting.length > 0) setImmediate(drain)
  else draining = false
}

let draining = false
appends.on('message', (request: AppendRequest) => {
  waiting.push(request)
  if (draining) return
  draining = true
  setImmediate(drain)
})
port.postMessage({ id: 0, ok: true, value: 'ready' } satisfies StoreReply)
