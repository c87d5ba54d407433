import type { StoreStats } from '../core/event-store.js'
import type { QuarantineStats } from '../core/quarantine-store.js'
import type { DownstreamStatus } from '../core/sink.js'
import { age, count, utc } from './format.js'
import { type Html, html } from './html.js'
import { layout, P, type PageContext, postButton } from './layout.js'
import type { SlotUse } from './slot-watch.js'

export interface Overview {
  readonly now: number
  readonly stats: StoreStats
  /** Undefined when the relay does not report its downstreams. */
  readonly downstreams: readonly DownstreamStatus[] | undefined
  readonly quarantine: QuarantineStats | undefined
  /** Per configured service, when it last accepted a callback (null: none since start, none kept). */
  readonly lastAccepted: readonly { readonly service: string; readonly at: number | null }[]
  readonly slots: readonly SlotUse[]
}

function downstreamSection(o: Overview): Html {
  if (o.downstreams === undefined)
    return html`<p class="muted">The relay does not report downstream status.</p>`
  if (o.downstreams.length === 0) {
    return html`<p>No downstream: events stay in the store (embedded mode).</p>`
  }
  const rows = o.downstreams.map(
    (d) => html`<tr>
<td data-label="Downstream"><code>${d.target}</code> (${d.kind})</td>
<td data-label="Services">${d.services === null ? 'every other service' : d.services.join(', ')}</td>
<td data-label="State"><span class="state">${d.up ? 'up' : 'DOWN'}</span></td>
<td data-label="Last progress">${d.lastProgressAt === null ? 'none yet' : `${age(o.now - d.lastProgressAt)} ago`}</td>
<td data-label="Last error">${d.lastError ?? '-'}</td>
</tr>`,
  )
  return html`<table class="cards" id="downstreams"><thead><tr><th>Downstream</th><th>Services</th><th>State</th><th>Last progress</th><th>Last error</th></tr></thead><tbody>${rows}</tbody></table>`
}

function queueSection(o: Overview, ctx: PageContext): Html {
  const { pending, dead, oldestPendingAt } = o.stats
  const oldest =
    oldestPendingAt === null ? 'nothing pending' : `${age(o.now - oldestPendingAt)} (${utc(oldestPendingAt)})`
  return html`<dl>
<dt>Pending</dt><dd id="pending-count"><a href="${P}/events?state=pending">${count(pending, 'event')}</a></dd>
<dt>Oldest pending</dt><dd id="oldest-pending">${oldest}</dd>
<dt>Dead letters</dt><dd id="dead-count"><a href="${P}/events?state=dead">${count(dead, 'dead letter')}</a></dd>
${
  o.quarantine === undefined
    ? ''
    : html`<dt>Quarantined</dt><dd id="quarantine-count"><a href="${P}/quarantine">${count(o.quarantine.count, 'request')}</a> (${o.quarantine.bytes} bytes)</dd>`
}
</dl>
${
  dead > 0
    ? html`<div class="actions">${postButton(
        ctx,
        `${P}/dead-letters/replay`,
        `Replay all ${count(dead, 'dead letter')}`,
        {
          confirm: `Queue all ${dead} dead letters for delivery again?`,
        },
      )}</div>`
    : ''
}`
}

function servicesSection(o: Overview): Html {
  const rows = o.lastAccepted.map((s) => {
    const slots = o.slots.filter((u) => u.service === s.service)
    const slotText =
      slots.length === 0
        ? 'no match since start'
        : html`<ul class="plain">${slots.map(
            (u) =>
              html`<li>${u.slot}: ${count(u.matches, 'match', 'matches')}${
                u.lastSeenAt === null ? '' : `, last ${age(o.now - u.lastSeenAt)} ago`
              }</li>`,
          )}</ul>`
    return html`<tr>
<td data-label="Service"><a href="${P}/events?service=${s.service}">${s.service}</a></td>
<td data-label="Last accepted">${s.at === null ? 'none since start' : html`${utc(s.at)} <span class="muted">(${age(o.now - s.at)} ago)</span>`}</td>
<td data-label="Secret matched">${slotText}</td>
</tr>`
  })
  return html`<table class="cards"><thead><tr><th>Service</th><th>Last accepted callback</th><th>Secret that matched (since start)</th></tr></thead><tbody>${rows}</tbody></table>
<p class="muted">"current" is the first secret listed for a service, "older" any other: once "older" stops matching, a key rotation is complete.</p>`
}

export function overviewPage(o: Overview, ctx: PageContext): string {
  const content = html`<h1>Overview</h1>
<div id="overview-live" data-live>
<h2>Downstream</h2>
${downstreamSection(o)}
<h2>Queue</h2>
${queueSection(o, ctx)}
<h2>Services</h2>
${servicesSection(o)}
</div>`
  return layout('Overview', ctx, 'overview', content)
}
