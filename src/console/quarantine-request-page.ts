import type { QuarantinedRequest } from '../core/quarantine-store.js'
import type { QuarantineVerdict } from './console-deps.js'
import { count, utc } from './format.js'
import { type Html, html } from './html.js'
import { layout, P, type PageContext, postButton } from './layout.js'
import { maskPersonalData } from './mask-personal-data.js'
import { REASONS } from './quarantine-page.js'

/** Which configured secret verifies the request now: what Retry would do, said before it is pressed. */
function verdictText(verdict: QuarantineVerdict | undefined): Html {
  if (verdict === undefined) return html`not known: the relay does not check quarantined requests here`
  if (verdict.verifies)
    return html`<strong>verifies now</strong> with service <code>${verdict.service}</code>, its ${
      verdict.slot === 0 ? 'current secret (the first listed)' : `older secret number ${verdict.slot + 1}`
    }: Retry accepts it`
  return html`does not verify with any secret configured now (${REASONS[verdict.reason] ?? verdict.reason})`
}

export async function quarantineRequestPage(
  q: QuarantinedRequest,
  verdict: QuarantineVerdict | undefined,
  canRetry: boolean,
  ctx: PageContext,
): Promise<string> {
  const action = `${P}/quarantine/${encodeURIComponent(q.id)}`
  const rows: [string, string | Html][] = [
    ['Request id', html`<code>${q.id}</code>`],
    ['Received', utc(q.receivedAt)],
    ['Refused because', REASONS[q.reason] ?? q.reason],
    ['Verifies now', verdictText(verdict)],
    ['Path', html`<code>${q.path}</code>`],
    ['Service asked for', q.service ?? '(none: POST /webhooks)'],
    ['From', q.sourceAddress],
    ['X-TLP-SIGNATURE', q.signature === null ? '(none)' : html`<code>${q.signature}</code>`],
    ['Content-Type', q.contentType ?? '(none)'],
    ['User-Agent', q.userAgent ?? '(none)'],
    ['Body', `${q.body.length} bytes`],
  ]
  const body = await maskPersonalData(q.body, false)
  const content = html`<h1>Quarantined request ${q.id}</h1>
<div class="actions">${canRetry ? postButton(ctx, `${action}/retry`, 'Retry') : ''}${postButton(
    ctx,
    `${action}/drop`,
    'Drop',
    { secondary: true, confirm: 'Drop this request for good?' },
  )} <a href="${P}/quarantine">Back to the quarantine</a></div>
<dl id="request">${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>
<h2>Body</h2>
${
  body.masked === 0
    ? html`<p class="muted">Nothing in this body looks like personal data.</p>`
    : html`<p>${count(body.masked, 'value')} that may be personal data ${body.masked === 1 ? 'is' : 'are'} masked; the CLI shows them with --unmasked.</p>`
}
<pre id="body">${body.text}</pre>${body.json ? '' : html`<p class="muted">Not JSON.</p>`}`
  return layout(`Quarantined request ${q.id}`, ctx, 'quarantine', content)
}
