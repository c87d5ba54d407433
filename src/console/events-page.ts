import { EVENT_STATES, PRODUCTS, type StoredEvent } from '../core/event.js'
import { CONSOLE } from './console-settings.js'
import type { EventFilters, FilterName } from './event-filters.js'
import { count, utc } from './format.js'
import { type Html, html } from './html.js'
import { csrfField, layout, P, type PageContext } from './layout.js'
import { statusText, statusView } from './status-view.js'

/** A delivery state: its word in text (forced colours and any font keep it), coloured and marked by CSS. */
export const stateLabel = (state: string): Html => html`<span class="state state-${state}">${state}</span>`

/** A body's state as `4 completed`, and its payment's outcome. */
export function statusCells(e: StoredEvent): { status: Html; outcome: Html } {
  const view = statusView(e)
  return {
    status: html`<span class="status">${statusText(view)}</span>`,
    outcome: html`<span class="outcome outcome-${view.outcome.replace(' ', '-')}">${view.outcome}</span>`,
  }
}

function select(name: FilterName, label: string, values: readonly string[], current: string): Html {
  const options = ['', ...values].map(
    (v) => html`<option value="${v}"${v === current ? html` selected` : ''}>${v === '' ? 'any' : v}</option>`,
  )
  return html`<div><label for="f-${name}">${label}</label><select id="f-${name}" name="${name}">${options}</select></div>`
}

function input(name: FilterName, label: string, current: string, type = 'text'): Html {
  return html`<div><label for="f-${name}">${label}</label><input id="f-${name}" name="${name}" type="${type}" value="${current}"${
    type === 'datetime-local' ? html` step="1"` : ''
  }></div>`
}

function filterForm(filters: EventFilters, services: readonly string[]): Html {
  const f = filters.form
  return html`<form method="get" action="${P}/events" class="filters" role="search">
${input('order', 'Merchant or Tylt order id', f.order)}
${select('service', 'Service', services, f.service)}
${select('state', 'State', EVENT_STATES, f.state)}
${select('product', 'Product', PRODUCTS, f.product)}
${input('status', 'Tylt status', f.status)}
${input('since', 'Accepted from (UTC)', f.since, 'datetime-local')}
${input('until', 'Accepted before (UTC)', f.until, 'datetime-local')}
<div><label aria-hidden="true"></label><button type="submit">Filter</button> <a href="${P}/events">Clear</a></div>
</form>`
}

function row(e: StoredEvent): Html {
  const { status, outcome } = statusCells(e)
  return html`<tr data-seq="${e.seq}">
<td data-label="Accepted">${utc(e.acceptedAt)}</td>
<td data-label="Merchant order"><a href="${P}/events/${encodeURIComponent(e.id)}">${e.merchantOrderId ?? '(none)'}</a></td>
<td data-label="Tylt order"><code>${e.orderId ?? '-'}</code></td>
<td data-label="Service">${e.service}</td>
<td data-label="Product">${e.product}</td>
<td data-label="Tylt status">${status}</td>
<td data-label="Outcome">${outcome}</td>
<td data-label="State">${stateLabel(e.state)}</td>
<td data-label="Attempts">${e.attempts}</td>
</tr>`
}

/** Replays every dead letter these filters match, after saying how many and asking. */
function bulkReplay(filters: EventFilters, dead: number, ctx: PageContext): Html {
  const fields = Object.entries(filters.form)
    .filter(([, v]) => v !== '')
    .map(([name, v]) => html`<input type="hidden" name="${name}" value="${v}">`)
  const what = count(dead, 'dead letter')
  return html`<form class="actions" id="bulk-replay" method="post" action="${P}/dead-letters/replay" data-confirm="Queue the ${what} matching these filters for delivery again?">
${csrfField(ctx)}${fields}<button type="submit">Replay the ${what} matching these filters</button></form>`
}

/** The query string of this search with the paging cursor `before`. */
function pageLink(filters: EventFilters, before: number | undefined): string {
  const params = new URLSearchParams(Object.entries(filters.form).filter(([, v]) => v !== ''))
  if (before !== undefined) params.set('before', String(before))
  const query = params.toString()
  return `${P}/events${query === '' ? '' : `?${query}`}`
}

export function eventsPage(
  events: readonly StoredEvent[],
  filters: EventFilters,
  services: readonly string[],
  ctx: PageContext,
  dead?: number,
): string {
  const shown = events.slice(0, CONSOLE.pageSize)
  const more = events.length > CONSOLE.pageSize
  const last = shown.at(-1)
  const table =
    shown.length === 0
      ? html`<p id="no-events">No event matches.</p>`
      : html`<table class="cards" id="events"><thead><tr><th>Accepted</th><th>Merchant order</th><th>Tylt order</th><th>Service</th><th>Product</th><th>Tylt status</th><th>Outcome</th><th>State</th><th>Attempts</th></tr></thead>
<tbody>${shown.map(row)}</tbody></table>`
  // Polled and replaced by console.js on the newest page only: an older page is a place in history.
  const live = filters.query.beforeSeq === undefined
  const content = html`<h1>Events</h1>
${filterForm(filters, services)}
${filters.problems.map((p) => html`<p class="flash error" role="alert">Filter ignored: ${p}</p>`)}
<div id="events-live"${live ? html` data-live` : ''}>
${dead === undefined || dead === 0 || filters.problems.length > 0 ? '' : bulkReplay(filters, dead, ctx)}
<p class="muted">${count(shown.length, 'event')}, newest first${filters.query.beforeSeq === undefined ? '' : ', older page'}.</p>
${table}
<p class="pager">${filters.query.beforeSeq === undefined ? '' : html`<a href="${pageLink(filters, undefined)}">Newest</a>`}
${more && last !== undefined ? html`<a href="${pageLink(filters, last.seq)}" rel="next">Older events</a>` : ''}</p>
</div>`
  return layout('Events', ctx, 'events', content)
}
