import type { Product } from '../core/event.js'
import { at, exact, isObject, type Path, pick } from './read-path.js'

const TRADE_ONLY_UPI = new Set(['0', '5', '6'])

// Where a body names its fiat currency (docs/metadata.md, "Telling the products apart"); first match wins.
const CURRENCY: readonly Path[] = [
  ['data', 'fiatCurrency'],
  ['data', 'currency'],
  ['data', 'trade', 'fiatCurrency'],
  ['data', 'transaction', 'fiatCurrency'],
  ['data', 'transaction', 'currency'],
  ['fiatCurrency'],
  ['currency'],
]

/** The fiat currency a parsed body names, upper-cased; null when it names none. */
export const currencyOf = (root: Record<string, unknown>): string | null =>
  pick(root, CURRENCY)?.toUpperCase() ?? null

/** A trade-and-transaction body (UPI or PIX): the currency tells them apart, else an id only UPI uses. */
function tradeProduct(root: Record<string, unknown>, data: Record<string, unknown>): Product {
  const currency = currencyOf(root)
  if (currency === 'INR') return 'upi'
  if (currency === 'BRL') return 'pix'
  const eventId = exact(at(data, ['trade', 'event', 'id']))
  return eventId !== null && TRADE_ONLY_UPI.has(eventId) ? 'upi' : 'unknown'
}

/** CPG's `type` names the direction; without it, fields only one direction carries. */
function cpgProduct(root: Record<string, unknown>, data: Record<string, unknown>): Product {
  if (root.type === 'pay-out') return 'cpg-payout'
  if (root.type === 'pay-in') return 'cpg-pay-in'
  if ('toAddress' in data || 'settledAmountDebited' in data) return 'cpg-payout'
  if ('depositAddress' in data || 'paymentURL' in data) return 'cpg-pay-in'
  return 'unknown'
}

const has = (root: unknown, ...paths: (readonly string[])[]) => paths.some((p) => at(root, p) !== undefined)

/**
 * The product family of a parsed body, from its shape alone (docs/metadata.md, "Telling the products
 * apart"). Checked from the most specific shape to the least: a trade or transaction object, a string
 * `event`, an Open Banking event id, a CPG order id.
 */
export function detectProduct(root: Record<string, unknown>): Product {
  const data = isObject(root.data) ? root.data : {}
  if ('trade' in data || isObject(data.transaction)) return tradeProduct(root, data)
  if (typeof root.event === 'string' || typeof data.event === 'string') return 'inr-payout'
  if (
    has(root, ['data', 'eventDetails'], ['data', 'eventId'], ['eventDetails'], ['eventId']) ||
    'isBuying' in data
  )
    return 'eu-open-banking'
  if ('orderId' in data) return cpgProduct(root, data)
  return 'unknown'
}
