import type { RelayEvent } from '../../src/core/event.js'
import { type OrderRecord, orderKeyOf } from '../../src/core/order-ledger.js'
import { INR_PAYOUT_WINDOW_MS } from '../../src/store/fold-sql.js'

/**
 * What the order ledger holds after `events`, folded one at a time, as docs/reconcile.md describes it: the
 * model the stores' SQL (src/store/fold-sql.ts) is held to. An event files under the record its key names,
 * else the first record its merchant's id names, else a new one under its own key. A known order keeps its
 * first ids and its latest time seen; the event's state replaces the order's unless it is absent, the same,
 * or a non-final one after a final one, and a state that moves the order makes it due again from the new
 * deadline.
 */
export function foldInTurn(events: readonly RelayEvent[], graceMs: number): OrderRecord[] {
  const records = new Map<string, OrderRecord>()
  const keyOf = (r: { service: string; product: string }, key: string) => `${r.service}/${r.product}/${key}`
  for (const event of events) {
    const key = orderKeyOf(event)
    if (key === null || event.product === 'unknown') continue
    const existing =
      records.get(keyOf(event, key)) ??
      [...records.values()].find(
        (r) =>
          event.merchantOrderId !== null &&
          r.merchantOrderId === event.merchantOrderId &&
          r.service === event.service &&
          r.product === event.product,
      )
    const record = foldOne(existing, event, key, graceMs)
    records.set(keyOf(record, record.orderKey), record)
  }
  return [...records.values()]
}

function foldOne(
  existing: OrderRecord | undefined,
  event: RelayEvent,
  key: string,
  graceMs: number,
): OrderRecord {
  const deadline =
    event.deadline ??
    (event.product === 'inr-payout' ? event.acceptedAt + INR_PAYOUT_WINDOW_MS : event.acceptedAt)
  const state = {
    status: event.status,
    final: event.final,
    source: event.recovered === 'reconcile' ? ('reconcile' as const) : ('callback' as const),
    deadline,
    nextCheck: event.final === 'true' ? null : deadline + graceMs,
    checks: 0,
    abandonedAt: null,
  }
  if (existing === undefined)
    return {
      service: event.service,
      product: event.product,
      orderKey: key,
      orderId: event.orderId,
      merchantOrderId: event.merchantOrderId,
      firstSeen: event.acceptedAt,
      lastSeen: event.acceptedAt,
      lastResult: null,
      ...state,
    }
  const kept = {
    ...existing,
    orderId: existing.orderId ?? event.orderId,
    merchantOrderId: existing.merchantOrderId ?? event.merchantOrderId,
    lastSeen: Math.max(existing.lastSeen, event.acceptedAt),
  }
  const regress = existing.final === 'true' && event.final !== 'true'
  if (event.status === null || event.status === existing.status || regress) return kept
  return { ...kept, ...state }
}
