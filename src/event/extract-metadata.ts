import type { EventMetadata } from '../core/event.js'

export type Metadata = EventMetadata

export const NO_METADATA: Metadata = Object.freeze({
  orderId: null,
  merchantOrderId: null,
  status: null,
  product: 'unknown',
  final: 'unknown',
})

type Path = readonly string[]

// Where each product family puts these fields (TYLT.md "Products and their lifecycle fields").
const ORDER_ID: readonly Path[] = [
  ['data', 'orderId'],
  ['orderId'],
  ['data', 'instanceId'],
  ['instanceId'],
  ['data', 'trade', 'orderId'],
]
const MERCHANT_ORDER_ID: readonly Path[] = [
  ['data', 'merchantOrderId'],
  ['merchantOrderId'],
  ['data', 'trade', 'merchantOrderId'],
  ['eventDetails', 'merchantOrderId'],
]
const STATUS: readonly Path[] = [
  ['data', 'status'], // CPG pay-in and payout
  ['data', 'trade', 'event', 'id'], // UPI, PIX
  ['trade', 'event', 'id'],
  ['eventDetails', 'eventId'], // EU Open Banking, PHP
  ['eventId'],
  ['event'], // India INR payout
  ['status'],
]

const MAX_LENGTH = 128

/** Values travel as HTTP, AMQP and NATS headers: printable ASCII only, bounded in length. */
function clean(value: unknown): string | null {
  if (typeof value !== 'string' && !(typeof value === 'number' && Number.isFinite(value))) return null
  const text = String(value)
    .replace(/[^\x20-\x7e]/g, '')
    .trim()
    .slice(0, MAX_LENGTH)
  return text === '' ? null : text
}

function pick(root: unknown, paths: readonly Path[]): string | null {
  for (const path of paths) {
    let node = root
    for (const key of path) {
      node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined
    }
    const value = clean(node)
    if (value !== null) return value
  }
  return null
}

const isObjectStart = (bytes: Buffer): boolean => {
  for (const byte of bytes) {
    if (byte === 0x7b) return true // {
    if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return false
  }
  return false
}

/** Reads the metadata from the verified bytes (or their already parsed form); never throws. */
export function extractMetadata(bytes: Buffer, parsed?: unknown): Metadata {
  let root = parsed
  if (root === undefined) {
    if (!isObjectStart(bytes)) return NO_METADATA
    try {
      root = JSON.parse(bytes.toString('utf8'))
    } catch {
      return NO_METADATA
    }
  }
  if (typeof root !== 'object' || root === null) return NO_METADATA
  return {
    orderId: pick(root, ORDER_ID),
    merchantOrderId: pick(root, MERCHANT_ORDER_ID),
    status: pick(root, STATUS),
    product: 'unknown',
    final: 'unknown',
  }
}
