import type { Finality, Product } from '../core/event.js'

/** What a state means for the money, for a consumer deciding what to do with an order. */
export type Outcome = 'success' | 'failure' | 'refunded' | 'pending' | 'unknown'

/**
 * Final states that are not failures, per product, lower-cased as the finality table keys them
 * (docs/metadata.md, "Finality by state"); every other final state of a product is a failure.
 */
const SUCCESS: Readonly<Partial<Record<Product, readonly string[]>>> = {
  'cpg-pay-in': ['completed', 'paid'],
  'cpg-payout': ['completed'],
  upi: ['4', '6', 'completed'],
  pix: ['4', 'completed'],
  'eu-open-banking': ['5'],
  'inr-payout': ['completed'],
}
const REFUNDED: Readonly<Partial<Record<Product, readonly string[]>>> = {
  'eu-open-banking': ['7'],
}

/**
 * The outcome of a state, from its finality: not final is `pending`, undecided is `unknown`, and a final
 * state is a success, a refund or a failure. A hand settlement ends a trade as paid whatever its id says.
 */
export function outcomeOf(
  product: Product,
  status: string | null,
  final: Finality,
  manualSettlement = false,
): Outcome {
  if (final === 'false') return 'pending'
  if (final === 'unknown' || status === null) return 'unknown'
  if (manualSettlement) return 'success'
  const key = status.toLowerCase()
  if (SUCCESS[product]?.includes(key)) return 'success'
  if (REFUNDED[product]?.includes(key)) return 'refunded'
  return product === 'unknown' ? 'unknown' : 'failure'
}
