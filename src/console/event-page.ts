import { ATTEMPTS_KEPT, type Attempt, type StoredEvent } from '../core/event.js'
import { metadataHeaders } from '../forward/metadata-headers.js'
import { stateLabel, statusCells } from './events-page.js'
import { count, utc } from './format.js'
import { type Html, html } from './html.js'
import { layout, P, type PageContext, postButton } from './layout.js'
import { maskPersonalData } from './mask-personal-data.js'

const link = (id: string) => `${P}/events/${encodeURIComponent(id)}`

function metadata(e: StoredEvent): Html {
  const { status, outcome } = statusCells(e)
  const rows: [string, string | number | Html][] = [
    ['Event id', html`<code>${e.id}</code>`],
    ['State', stateLabel(e.state)],
    ['Service', e.service],
    ['Product', e.product],
    ['Tylt status', status],
    ['Outcome', outcome],
    ['Final', e.final],
    ['Merchant order id', e.merchantOrderId ?? '-'],
    ['Tylt order id', e.orderId ?? '-'],
    ['Accepted', utc(e.acceptedAt)],
    ['Retry clock since', utc(e.retrySince)],
    ['Attempts', e.attempts],
    ['Last attempt', utc(e.lastAttemptAt)],
    ['Last error', e.lastError ?? '-'],
    ['Delivered', e.deliveredAt === null ? '-' : `${utc(e.deliveredAt)} to ${e.deliveredTo ?? '?'}`],
    ['Recovered from', e.recovered ?? '-'],
    ['Body', `${e.body.length} bytes`],
  ]
  return html`<dl id="metadata">${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`
}

/** Every kept attempt, oldest first: when, where, how it ended, how long it took, what the downstream said. */
function attemptsTable(attempts: readonly Attempt[], e: StoredEvent): Html {
  if (attempts.length === 0) return html`<p id="no-attempts">No attempt yet.</p>`
  const rows = attempts.map(
    (a) => html`<tr class="attempt-${a.outcome}"><td data-label="At">${utc(a.at)}</td>
<td data-label="Downstream"><code>${a.downstream}</code></td><td data-label="Outcome"><strong>${a.outcome}</strong></td>
<td data-label="Duration">${a.durationMs === null ? '-' : `${a.durationMs} ms`}</td>
<td data-label="Status">${a.status ?? '-'}</td><td data-label="Answer">${a.answer ?? '-'}</td>
<td data-label="Error">${a.error ?? '-'}</td></tr>`,
  )
  const dropped = e.attempts - attempts.length
  return html`<table class="cards" id="attempts"><thead><tr><th>At</th><th>Downstream</th><th>Outcome</th><th>Duration</th><th>Status</th><th>Answer</th><th>Error</th></tr></thead>
<tbody>${rows}</tbody></table>
${dropped > 0 && attempts.length >= ATTEMPTS_KEPT ? html`<p class="muted">${count(dropped, 'older attempt')} not kept.</p>` : ''}`
}

function headersTable(e: StoredEvent): Html {
  const rows = Object.entries(metadataHeaders(e)).map(
    ([name, value]) =>
      html`<tr><td data-label="Header"><code>${name}</code></td><td data-label="Value"><code>${value}</code></td></tr>`,
  )
  return html`<table id="headers"><thead><tr><th>Header</th><th>Value</th></tr></thead><tbody>${rows}</tbody></table>`
}

async function bodySection(e: StoredEvent, ctx: PageContext, revealed: boolean): Promise<Html> {
  const body = await maskPersonalData(e.body, revealed)
  const note = revealed
    ? html`<p class="flash" role="status">Personal data shown; this reveal is logged.</p>`
    : body.masked === 0
      ? html`<p class="muted">Nothing in this body looks like personal data.</p>`
      : html`<p>${count(body.masked, 'value')} that may be personal data ${body.masked === 1 ? 'is' : 'are'} masked.</p>
<div class="actions">${postButton(ctx, `${link(e.id)}/reveal`, 'Reveal personal data', { secondary: true })}</div>`
  return html`${note}<pre id="body">${body.text}</pre>${body.json ? '' : html`<p class="muted">Not JSON.</p>`}${
    body.cut ? html`<p class="muted">The body is too large to show whole; the CLI prints it all.</p>` : ''
  }`
}

function otherEvents(e: StoredEvent): Html {
  const order = e.merchantOrderId ?? e.orderId
  if (order === null) return html``
  return html` <a href="${P}/events?order=${encodeURIComponent(order)}">Every event of this order</a>`
}

export async function eventPage(
  e: StoredEvent,
  attempts: readonly Attempt[],
  ctx: PageContext,
  revealed = false,
): Promise<string> {
  const replay =
    e.state === 'delivered' ? 'Deliver again' : e.state === 'dead' ? 'Replay this dead letter' : 'Replay now'
  const content = html`<h1>Event ${e.merchantOrderId ?? e.id}</h1>
<div class="actions">${postButton(ctx, `${link(e.id)}/replay`, replay, {
    confirm: e.state === 'delivered' ? 'The downstream already has this event. Send it again?' : undefined,
  })}${otherEvents(e)}</div>
${metadata(e)}
<h2>Attempts</h2>
${attemptsTable(attempts, e)}
<h2>Forwarded headers</h2>
${headersTable(e)}
<h2>Body</h2>
${await bodySection(e, ctx, revealed)}`
  return layout(`Event ${e.id}`, ctx, 'events', content)
}
