import { parentPort, workerData } from 'node:worker_threads'
import { SqliteStore } from './sqlite-store.js'
import { type PackedBatch, unpackBatch } from './wire.js'

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

const port = parentPort!
const store = new SqliteStore((workerData as { dataDir: string }).dataDir)

const operations: Record<string, (...args: never[]) => unknown> = {
  append: (batch: PackedBatch) => store.append(unpackBatch(batch)),
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
  if (request.op === 'close') port.close()
})
port.postMessage({ id: 0, ok: true, value: 'ready' } satisfies StoreReply)
