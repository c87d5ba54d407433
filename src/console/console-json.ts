import type { Attempt, StoredEvent } from '../core/event.js'
import type { QuarantinedRequest, QuarantineSummary } from '../core/quarantine-store.js'
import { CONSOLE } from './console-settings.js'
import type { EventFilters } from './event-filters.js'
import { maskPersonalData } from './mask-personal-data.js'
import { statusView } from './status-view.js'

/** An event as the API lists it: its metadata, its status in words, never its body. Times in ms. */
export function eventSummary(e: StoredEvent) {
  const { label, outcome } = statusView(e)
  return {
    id: e.id,
    seq: e.seq,
    service: e.service,
    product: e.product,
    orderId: e.orderId,
    merchantOrderId: e.merchantOrderId,
    status: e.status,
    statusLabel: label,
    outcome,
    final: e.final,
    state: e.state,
    attempts: e.attempts,
    acceptedAt: e.acceptedAt,
    retrySince: e.retrySince,
    lastAttemptAt: e.lastAttemptAt,
    lastError: e.lastError,
    deliveredAt: e.deliveredAt,
    deliveredTo: e.deliveredTo,
    recovered: e.recovered,
  }
}

/** A page of the events table: the events shown, and the `before` cursor of the next page (null: none). */
export function eventsJson(events: readonly StoredEvent[], filters: EventFilters) {
  const shown = events.slice(0, CONSOLE.pageSize)
  const next = events.length > CONSOLE.pageSize ? (shown.at(-1)?.seq ?? null) : null
  return { events: shown.map(eventSummary), next, problems: filters.problems }
}

/** One event with its kept attempts and its body, personal data masked as on the page. */
export async function eventJson(e: StoredEvent, attempts: readonly Attempt[]) {
  const body = await maskPersonalData(e.body, false)
  return {
    event: { ...eventSummary(e), bodyBytes: e.body.length },
    attempts,
    body: { text: body.text, masked: body.masked, json: body.json, cut: body.cut },
  }
}

/** A quarantined request without its body, as listed. */
export const quarantineSummary = (q: QuarantineSummary) => ({ ...q })

/** One quarantined request: its headers, its body masked, and what verifies it now. */
export async function quarantineJson(
  q: QuarantinedRequest,
  verifiedBy: { readonly service: string; readonly slot: number } | null,
) {
  const { body: raw, ...rest } = q
  const body = await maskPersonalData(raw, false)
  return {
    request: { ...rest, bytes: raw.length },
    verifiedBy,
    body: { text: body.text, masked: body.masked, json: body.json, cut: body.cut },
  }
}
