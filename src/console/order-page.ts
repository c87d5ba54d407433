import type { OrderRecord } from '../core/order-ledger.js'
import { utc } from './format.js'
import { html } from './html.js'
import { layout, P, type PageContext, postButton } from './layout.js'
import type { OrderState } from './order-history.js'
import { orderLink } from './orders-page.js'

/** One order: its ledger record, its states with their sources, and why it can or cannot be checked now. */
export interface OrderView {
  readonly order: OrderRecord
  readonly history: readonly OrderState[]
  /** Why "check now" is not offered; null when it is. */
  readonly cannotCheck: string | null
}

export function orderPage(view: OrderView, ctx: PageContext): string {
  const { order: o, history } = view
  const states =
    history.length === 0
      ? html`<p id="no-history">No event of this order is kept (delivered events are pruned after DEDUP_WINDOW).</p>`
      : html`<table class="cards" id="order-history"><thead><tr><th>When</th><th>Status</th><th>Final</th><th>Source</th><th>Event</th></tr></thead>
<tbody>${history.map(
          (s) => html`<tr>
<td data-label="When">${utc(s.at)}</td>
<td data-label="Status">${s.status ?? '-'}</td>
<td data-label="Final">${s.final}</td>
<td data-label="Source">${s.source}</td>
<td data-label="Event"><a href="${P}/events/${encodeURIComponent(s.eventId)}"><code>${s.eventId}</code></a></td>
</tr>`,
        )}</tbody></table>`
  const check =
    view.cannotCheck === null
      ? html`<div class="actions">${postButton(ctx, `${orderLink(o)}/check`, 'Check now')}</div>`
      : html`<p id="cannot-check">Not checked from here: ${view.cannotCheck}.</p>`
  const content = html`<h1>Order <code>${o.orderKey}</code></h1>
<dl id="order-facts">
<dt>Service</dt><dd>${o.service}</dd>
<dt>Product</dt><dd>${o.product}</dd>
<dt>Tylt order id</dt><dd>${o.orderId ?? '-'}</dd>
<dt>Merchant order id</dt><dd>${o.merchantOrderId ?? '-'}</dd>
<dt>Last state</dt><dd id="order-status">${o.status ?? '-'} (${o.source}, final: ${o.final})</dd>
<dt>First seen</dt><dd>${utc(o.firstSeen)}</dd>
<dt>Last seen</dt><dd>${utc(o.lastSeen)}</dd>
<dt>Checks made</dt><dd>${o.checks}</dd>
<dt>Last check</dt><dd>${o.lastResult ?? '-'}</dd>
<dt>Next check</dt><dd>${o.nextCheck === null ? 'none' : utc(o.nextCheck)}</dd>
<dt>Abandoned</dt><dd id="order-abandoned">${o.abandonedAt === null ? 'no' : utc(o.abandonedAt)}</dd>
</dl>
${check}
<h2>States</h2>
${states}`
  return layout(`Order ${o.orderKey}`, ctx, 'orders', content)
}
