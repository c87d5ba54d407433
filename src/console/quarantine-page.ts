import type { QuarantineStats, QuarantineSummary } from '../core/quarantine-store.js'
import { count, utc } from './format.js'
import { type Html, html } from './html.js'
import { layout, P, type PageContext, postButton } from './layout.js'

/** Requests listed on the page; the overview has the total. */
export const QUARANTINE_SHOWN = 100

export const REASONS: Record<string, string> = {
  missing: 'no signature',
  malformed: 'malformed signature',
  mismatch: 'signature did not match',
  unknown_service: 'unknown service',
}

function row(q: QuarantineSummary, ctx: PageContext, canRetry: boolean): Html {
  const action = `${P}/quarantine/${encodeURIComponent(q.id)}`
  return html`<tr>
<td data-label="Received"><a href="${action}">${utc(q.receivedAt)}</a></td>
<td data-label="Reason">${REASONS[q.reason] ?? q.reason}</td>
<td data-label="Path"><code>${q.path}</code></td>
<td data-label="From">${q.sourceAddress}</td>
<td data-label="Size">${q.bytes} bytes</td>
<td data-label="Actions"><div class="actions">${
    canRetry ? postButton(ctx, `${action}/retry`, 'Retry') : ''
  }${postButton(ctx, `${action}/drop`, 'Drop', { secondary: true, confirm: 'Drop this request for good?' })}</div></td>
</tr>`
}

export function quarantinePage(
  requests: readonly QuarantineSummary[],
  stats: QuarantineStats,
  canRetry: boolean,
  ctx: PageContext,
): string {
  const table =
    requests.length === 0
      ? html`<p id="no-quarantine">Nothing is quarantined.</p>`
      : html`<table class="cards" id="quarantine"><thead><tr><th>Received</th><th>Reason</th><th>Path</th><th>From</th><th>Size</th><th>Actions</th></tr></thead>
<tbody>${requests.map((q) => row(q, ctx, canRetry))}</tbody></table>`
  const content = html`<h1>Quarantine</h1>
<p>${count(stats.count, 'refused request')} kept (${stats.bytes} bytes)${
    stats.count > requests.length ? `, the newest ${requests.length} shown` : ''
  }. ${canRetry ? 'Retry checks a request again with the secrets configured now and accepts it if it verifies.' : ''}</p>
${
  stats.count > 0
    ? html`<div class="actions">${postButton(ctx, `${P}/quarantine/drop-all`, 'Drop all', {
        secondary: true,
        confirm: `Drop all ${stats.count} quarantined requests for good?`,
      })}</div>`
    : ''
}
${table}`
  return layout('Quarantine', ctx, 'quarantine', content)
}
