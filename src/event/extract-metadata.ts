import type { EventMetadata, Finality, Product } from '../core/event.js'
import { currencyOf, detectProduct } from './detect-product.js'
import { hasDuplicateKey } from './duplicate-keys.js'
import { finalityOf, tradeFinality } from './finality-table.js'
import { at, exact, isObject, type Path, pick } from './read-path.js'

export type Metadata = EventMetadata

export const NO_METADATA: Metadata = Object.freeze({
  orderId: null,
  merchantOrderId: null,
  status: null,
  product: 'unknown',
  final: 'unknown',
  deadline: null,
})

// Every place a family puts these fields (docs/metadata.md, "Where the fields are read"); first match wins.
const ORDER_ID: readonly Path[] = [
  ['data', 'orderId'], // CPG
  ['data', 'instanceId'], // UPI, PIX, EU Open Banking
  ['orderId'],
  ['instanceId'],
  ['data', 'trade', 'orderId'],
]
const MERCHANT_ORDER_ID: readonly Path[] = [
  ['data', 'transaction', 'merchantOrderId'], // UPI, PIX; the object is empty in early callbacks
  ['data', 'merchantOrderId'],
  ['merchantOrderId'], // EU Open Banking, India INR payout
  ['data', 'trade', 'merchantOrderId'],
  ['eventDetails', 'merchantOrderId'],
]
const STATUS: readonly Path[] = [
  ['data', 'status'], // CPG pay-in and payout
  ['data', 'trade', 'event', 'id'], // UPI, PIX: a number, a digit string, or null before a trade exists
  ['data', 'transaction', 'status'],
  ['data', 'eventDetails', 'eventId'], // EU Open Banking, PHP
  ['data', 'eventId'],
  ['eventDetails', 'eventId'],
  ['eventId'],
  ['event'], // India INR payout
  ['data', 'event'],
  ['status'],
]

// Where a body says until when the order may still move: CPG `expiresAt`, a UPI/PIX trade event's deadline.
const DEADLINE: readonly Path[] = [
  ['data', 'expiresAt'],
  ['data', 'trade', 'event', 'deadline'],
]

/** The first of DEADLINE that holds a date string JavaScript reads; null when none does. */
function deadlineIn(root: unknown): number | null {
  for (const path of DEADLINE) {
    const value = at(root, path)
    const time = typeof value === 'string' ? Date.parse(value) : Number.NaN
    if (Number.isFinite(time)) return time
  }
  return null
}

/**
 * UPI and PIX: a manual settlement or a completed transaction ends the payment whatever the trade says; no
 * trade event yet means the buyer has not started.
 */
function tradeFinal(data: unknown, product: Product, status: string | null): Finality {
  const manual = at(data, ['manualSettlement'])
  if (manual === 1 || manual === '1') return 'true'
  if (exact(at(data, ['transaction', 'status']))?.toLowerCase() === 'completed') return 'true'
  const trade = at(data, ['trade'])
  if (!isObject(trade) || at(trade, ['event', 'id']) === null) return status === null ? 'false' : 'unknown'
  return product === 'unknown' ? tradeFinality(status) : finalityOf(product, status)
}

const isTrade = (data: unknown) => isObject(data) && ('trade' in data || isObject(data.transaction))

const isObjectStart = (bytes: Buffer): boolean => {
  for (const byte of bytes) {
    if (byte === 0x7b) return true // {
    if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return false
  }
  return false
}

/** The parsed body; undefined when it is not a JSON object or repeats a key the metadata is read from. */
function parse(bytes: Buffer): unknown {
  if (!isObjectStart(bytes)) return undefined
  const text = bytes.toString('utf8')
  try {
    const root: unknown = JSON.parse(text)
    return hasDuplicateKey(text) ? undefined : root
  } catch {
    return undefined
  }
}

/**
 * Reads the metadata from the verified bytes (or their already parsed form: JSON.stringify's output, which
 * cannot repeat a key); never throws.
 */
export function extractMetadata(bytes: Buffer, parsed?: unknown): Metadata {
  const root = parsed === undefined ? parse(bytes) : parsed
  if (!isObject(root)) return NO_METADATA
  const product = detectProduct(root)
  const status = pick(root, STATUS)
  const final = isTrade(root.data)
    ? tradeFinal(root.data, product, status)
    : finalityOf(product, status, currencyOf(root))
  return {
    orderId: pick(root, ORDER_ID),
    merchantOrderId: pick(root, MERCHANT_ORDER_ID),
    status,
    product,
    final,
    deadline: deadlineIn(root),
  }
}
