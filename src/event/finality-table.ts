import type { Finality, Product } from '../core/event.js'

/**
 * Whether a state ends its payment, per product, as Tylt's pages describe it (docs/metadata.md is the same
 * table with the page behind each row; test/event/finality-table.test.ts keeps the two in step). Keys are
 * the `tylt-status` value, lower-cased. A state missing here is `unknown`.
 */
export const FINALITY: Readonly<Partial<Record<Product, Readonly<Record<string, Finality>>>>> = {
  'cpg-pay-in': {
    pending: 'false',
    completed: 'true',
    'under payment': 'unknown',
    'over payment': 'unknown',
    expired: 'true',
    waiting: 'false',
    confirming: 'false',
    paid: 'true',
    failed: 'true',
  },
  'cpg-payout': { pending: 'false', completed: 'true' },
  upi: {
    '0': 'false',
    '1': 'false',
    '2': 'false',
    '3': 'false',
    '4': 'true',
    '5': 'unknown',
    '6': 'true',
    '9': 'true',
    completed: 'true',
  },
  pix: { '1': 'false', '2': 'false', '3': 'false', '4': 'true', '9': 'true', completed: 'true' },
  'eu-open-banking': {
    '1': 'false',
    '2': 'false',
    '3': 'false',
    '4': 'unknown',
    '5': 'true',
    '6': 'false',
    '7': 'true',
    '8': 'true',
    '9': 'true',
    '10': 'true',
    '11': 'false',
  },
  'inr-payout': {
    created: 'false',
    initiated: 'false',
    processing: 'false',
    pending: 'false',
    completed: 'true',
    failed: 'true',
    deleted: 'true',
  },
}

/**
 * Families that share a product's shape but whose states Tylt's pages do not document, by the currency that
 * tells them apart: every state of theirs is `unknown`, whatever the product's own table says
 * (docs/metadata.md, "States not documented").
 */
export const UNDOCUMENTED_STATES: Readonly<Partial<Record<Product, readonly string[]>>> = {
  // Philippines PHP (rail partners): Tylt names its `eventDetails.eventId` but none of the values.
  'eu-open-banking': ['PHP'],
}

/**
 * A state's finality for a product, given the body's currency (upper-cased); for a trade body whose product
 * is unknown, see tradeFinality.
 */
export function finalityOf(
  product: Product,
  status: string | null,
  currency: string | null = null,
): Finality {
  if (status === null) return 'unknown'
  if (currency !== null && UNDOCUMENTED_STATES[product]?.includes(currency)) return 'unknown'
  const key = status.toLowerCase()
  if (product !== 'unknown') return FINALITY[product]?.[key] ?? 'unknown'
  return 'unknown'
}

/** UPI and PIX share their trade event ids where both pages define them. */
export function tradeFinality(status: string | null): Finality {
  if (status === null) return 'unknown'
  const upi = FINALITY.upi?.[status.toLowerCase()]
  const pix = FINALITY.pix?.[status.toLowerCase()]
  return upi !== undefined && upi === pix ? upi : 'unknown'
}

/**
 * What the numeric states mean, per product, in Tylt's words (docs/metadata.md, "Finality by state"), so that
 * a search for `completed` finds a UPI `4`. Keys as in FINALITY; labels lower-case.
 */
export const STATUS_LABELS: Readonly<Partial<Record<Product, Readonly<Record<string, string>>>>> = {
  upi: {
    '0': 'created',
    '1': 'initiated',
    '2': 'waiting',
    '3': 'buyer says paid',
    '4': 'completed',
    '5': 'disputed',
    '6': 'completed',
    '9': 'expired',
  },
  pix: { '4': 'completed', '9': 'expired' },
  'eu-open-banking': {
    '1': 'created',
    '2': 'order created',
    '3': 'processing',
    '4': 'payment processing',
    '5': 'completed',
    '6': 'refund processing',
    '7': 'refunded',
    '8': 'failed',
    '9': 'expired',
    '10': 'kyc failed',
    '11': 'waiting for approval',
  },
}

/** The `product:id` pairs whose state a label names (`completed`: `upi:4`, `upi:6`, `pix:4`, ...), any case. */
export function statusIdsOf(label: string): string[] {
  const wanted = label.trim().toLowerCase()
  return Object.entries(STATUS_LABELS).flatMap(([product, labels]) =>
    Object.entries(labels ?? {})
      .filter(([, name]) => name === wanted)
      .map(([id]) => `${product}:${id}`),
  )
}
