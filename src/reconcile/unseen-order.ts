import type { Product } from '../core/event.js'
import type { OrderRecord } from '../core/order-ledger.js'
import { QUERY_ENDPOINTS } from '../event/query-endpoints.js'
import { type OrderResult, skipped } from './order-result.js'

/** An order named on the command line: any of its ids, optionally its service and product. */
export interface NamedOrder {
  readonly id: string
  readonly service?: string | undefined
  /** Which query to send for an order the relay never saw. */
  readonly product?: Product | undefined
  /** Which id `id` is, when the orders file says so; else Tylt's or the merchant's, as the query takes it. */
  readonly kind?: 'orderId' | 'merchantOrderId' | undefined
}

/** An order to check: a row of the ledger, or one the relay never saw (`unseen`: the ledger has no row). */
export type CheckedOrder = OrderRecord & { readonly unseen?: true }

/** A named order as a result's subject, before any state is known. */
const subject = (named: NamedOrder) => ({
  service: named.service ?? '-',
  product: named.product ?? 'unknown',
  orderKey: named.id,
  status: null,
})

/**
 * A named order the ledger lacks (every callback of it lost), to be checked as one with no state yet; or
 * why it cannot be. Its service and product must be named: the product decides the query, and the query
 * the id (CPG asks by Tylt's order id, UPI, PIX and EU by the merchant's).
 */
export function unseenOrder(named: NamedOrder, now: number): CheckedOrder | OrderResult {
  const { id, service, product } = named
  if (service === undefined || product === undefined)
    return skipped(
      subject(named),
      'the relay has seen no event of this order: add --service and --product ("service" and "product" in --orders-file)',
    )
  const endpoints = QUERY_ENDPOINTS[product] ?? []
  if (named.kind !== undefined && endpoints.length > 0 && !endpoints.some((e) => e.id === named.kind))
    return skipped(subject(named), `${product} is asked by ${endpoints[0]!.param}, not by ${named.kind}`)
  return {
    service,
    product,
    orderKey: id,
    // A bare id may be either: each query of the product tries the one it takes.
    orderId: named.kind === 'merchantOrderId' ? null : id,
    merchantOrderId: named.kind === 'orderId' ? null : id,
    status: null,
    final: 'unknown',
    source: 'reconcile',
    firstSeen: now,
    lastSeen: now,
    deadline: now,
    nextCheck: now,
    checks: 0,
    lastResult: null,
    abandonedAt: null,
    unseen: true,
  }
}
