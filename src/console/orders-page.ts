import type { OrderRecord } from '../core/order-ledger.js'
import { age, count, utc } from './format.js'
import { type Html, html } from './html.js'
import { layout, P, type PageContext } from './layout.js'

/** Orders listed per table. */
export const ORDERS_SHOWN = 100

/** What the Orders screen shows: the search's matches (when searched), open, due and abandoned orders. */
export interface OrdersView {
  readonly now: number
  readonly query: string | null
  readonly found: readonly OrderRecord[] | null
  readonly open: readonly OrderRecord[]
  readonly due: readonly OrderRecord[]
  readonly abandoned: readonly OrderRecord[]
}

export const orderLink = (o: Pick<OrderRecord, 'service' | 'product' | 'orderKey'>): string =>
  `${P}/orders/${[o.service, o.product, o.orderKey].map(encodeURIComponent).join('/')}`

function row(o: OrderRecord, now: number): Html {
  return html`<tr>
<td data-label="Order"><a href="${orderLink(o)}"><code>${o.orderKey}</code></a></td>
<td data-label="Merchant order">${o.merchantOrderId ?? '-'}</td>
<td data-label="Service">${o.service}</td>
<td data-label="Product">${o.product}</td>
<td data-label="Status">${o.status ?? '-'} <small>(${o.source})</small></td>
<td data-label="Age">${age(now - o.firstSeen)}</td>
<td data-label="Checks">${o.checks}</td>
<td data-label="Next check">${o.abandonedAt === null ? utc(o.nextCheck) : html`abandoned ${utc(o.abandonedAt)}`}</td>
</tr>`
}

function table(id: string, orders: readonly OrderRecord[], now: number, none: string): Html {
  if (orders.length === 0) return html`<p id="${id}-none">${none}</p>`
  return html`<table class="cards" id="${id}"><thead><tr><th>Order</th><th>Merchant order</th><th>Service</th><th>Product</th><th>Status</th><th>Age</th><th>Checks</th><th>Next check</th></tr></thead>
<tbody>${orders.map((o) => row(o, now))}</tbody></table>`
}

export function ordersPage(view: OrdersView, ctx: PageContext): string {
  const { now } = view
  const found =
    view.found === null
      ? ''
      : html`<h2>Found for "${view.query}"</h2>${table('orders-found', view.found, now, 'No order of the ledger matches.')}`
  const content = html`<h1>Orders</h1>
<p>The order ledger: the last state the relay holds of each order, and when reconcile asks Tylt next.</p>
<form method="get" action="${P}/orders" role="search" class="field">
<label for="order-query">Order id or merchant order id (or its start)</label>
<input id="order-query" name="q" type="search" value="${view.query ?? ''}" autocomplete="off">
<button type="submit">Find</button>
</form>
${found}
<h2>Open, oldest first (${count(view.open.length, 'order')})</h2>
${table('orders-open', view.open, now, 'No order is open.')}
<h2>Due now (${count(view.due.length, 'order')})</h2>
${table('orders-due', view.due, now, 'No order is due.')}
<h2>Abandoned (${count(view.abandoned.length, 'order')})</h2>
<p>Unresolved past RECONCILE_MAX_AGE: never asked about again, kept here.</p>
${table('orders-abandoned', view.abandoned, now, 'No order was abandoned.')}`
  return layout('Orders', ctx, 'orders', content)
}
