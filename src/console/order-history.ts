import type { Finality, StoredEvent } from '../core/event.js'
import type { EventStore } from '../core/event-store.js'
import type { OrderRecord, StateSource } from '../core/order-ledger.js'
import { at } from '../event/read-path.js'

/** Events read for one order's history; an order has a handful, so more means the newest are enough. */
const HISTORY_LIMIT = 200

/** One state the relay holds of an order: the event that carried it, where it came from, and when. */
export interface OrderState {
  readonly eventId: string
  readonly status: string | null
  readonly final: Finality
  readonly source: StateSource
  readonly at: number
}

function sourceOf(event: StoredEvent): StateSource {
  if (event.recovered === 'reconcile') return 'reconcile'
  try {
    const settled = at(JSON.parse(event.body.toString('utf8')), ['data', 'manualSettlement'])
    if (settled === true || settled === 1) return 'manual'
  } catch {
    // A body that is not JSON names no settlement: a callback.
  }
  return 'callback'
}

const sameOrder = (order: OrderRecord) => (e: StoredEvent) =>
  e.service === order.service &&
  e.product === order.product &&
  ((order.orderId !== null && e.orderId === order.orderId) ||
    (order.merchantOrderId !== null && e.merchantOrderId === order.merchantOrderId))

/** The order's states from its stored events, oldest first (delivered events pruned after DEDUP_WINDOW are gone). */
export async function orderHistory(store: EventStore, order: OrderRecord): Promise<OrderState[]> {
  const ids = [order.orderId, order.merchantOrderId].filter((id): id is string => id !== null)
  const lists = await Promise.all(
    [...new Set(ids)].map((id) => store.list({ order: id, service: order.service, limit: HISTORY_LIMIT })),
  )
  const events = new Map<string, StoredEvent>()
  for (const event of lists.flat().filter(sameOrder(order))) events.set(event.id, event)
  return [...events.values()]
    .sort((a, b) => a.seq - b.seq)
    .map((e) => ({ eventId: e.id, status: e.status, final: e.final, source: sourceOf(e), at: e.acceptedAt }))
}
