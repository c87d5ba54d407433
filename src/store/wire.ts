import type { NewEvent } from './types.js'

/**
 * How a batch of new events crosses to the store thread: the bodies packed into one buffer that is moved,
 * not copied, and the other fields in one flat array. Cloning each request's Buffer separately would copy
 * its whole 8 KiB allocation pool slab per event.
 */
export interface PackedBatch {
  readonly fields: (string | number | null)[]
  readonly bodies: ArrayBuffer
}

/** One batch on the appends channel; `id` names it in the reply. */
export interface AppendRequest extends PackedBatch {
  readonly id: number
}

/** The answer to the batches committed together, in the order they were sent. */
export type AppendReply =
  | { readonly ids: number[]; readonly ok: true; readonly inserted: boolean[] }
  | {
      readonly ids: number[]
      readonly ok: false
      readonly message: string
      readonly code: string | undefined
    }

const FIELDS = 8

export function packBatch(events: readonly NewEvent[]): PackedBatch {
  let total = 0
  for (const e of events) total += e.body.length
  // allocUnsafeSlow: never a slice of the shared pool, so its ArrayBuffer can be transferred.
  const bodies = Buffer.allocUnsafeSlow(total)
  const fields: (string | number | null)[] = new Array(events.length * FIELDS)
  let offset = 0
  let i = 0
  for (const e of events) {
    offset += e.body.copy(bodies, offset)
    fields[i++] = e.id
    fields[i++] = e.service
    fields[i++] = e.acceptedAt
    fields[i++] = e.signature
    fields[i++] = e.orderId
    fields[i++] = e.merchantOrderId
    fields[i++] = e.status
    fields[i++] = e.body.length
  }
  return { fields, bodies: bodies.buffer as ArrayBuffer }
}

export function unpackBatch(batch: PackedBatch): NewEvent[] {
  const events: NewEvent[] = []
  const { fields } = batch
  let offset = 0
  for (let i = 0; i < fields.length; i += FIELDS) {
    const length = fields[i + 7] as number
    events.push({
      id: fields[i] as string,
      service: fields[i + 1] as string,
      acceptedAt: fields[i + 2] as number,
      signature: fields[i + 3] as string,
      orderId: fields[i + 4] as string | null,
      merchantOrderId: fields[i + 5] as string | null,
      status: fields[i + 6] as string | null,
      body: Buffer.from(batch.bodies, offset, length),
    })
    offset += length
  }
  return events
}
