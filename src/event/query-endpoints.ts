import type { Product } from '../core/event.js'

/** One way to ask Tylt for an order's state: a GET path and the id parameter it takes. */
export interface QueryEndpoint {
  readonly path: string
  /** The query parameter and which of the order's ids fills it. */
  readonly param: string
  readonly id: 'orderId' | 'merchantOrderId'
}

/**
 * The state query of each product, first choice first (docs/reconcile.md, "Which products"). India INR
 * payouts need Tylt's request id, which their callbacks do not carry; Philippines PHP has no documented
 * query: neither is here, so neither is ever queried.
 */
export const QUERY_ENDPOINTS: Readonly<Partial<Record<Product, readonly QueryEndpoint[]>>> = {
  'cpg-pay-in': [
    { path: '/transactions/merchant/getPayinTransactionInformation', param: 'orderId', id: 'orderId' },
  ],
  'cpg-payout': [
    { path: '/transactions/merchant/getPayoutTransactionInformation', param: 'orderId', id: 'orderId' },
  ],
  upi: [
    { path: '/p2pRampsMerchant/getInstanceDetails', param: 'merchantOrderId', id: 'merchantOrderId' },
    { path: '/p2pRampsMerchant/getInstanceDetails', param: 'instanceId', id: 'orderId' },
  ],
  pix: [
    { path: '/p2pRampsMerchant/getInstanceDetails', param: 'merchantOrderId', id: 'merchantOrderId' },
    { path: '/p2pRampsMerchant/getInstanceDetails', param: 'instanceId', id: 'orderId' },
  ],
  'eu-open-banking': [
    { path: '/v2/prime-fiat/instance/details', param: 'merchantOrderId', id: 'merchantOrderId' },
  ],
}

/** `GET <path>` of a product's first query, as `tylt-reconcile-endpoint` carries it (never the query). */
export function reconcileEndpoint(product: Product): string | null {
  const first = QUERY_ENDPOINTS[product]?.[0]
  return first === undefined ? null : `GET ${first.path}`
}
