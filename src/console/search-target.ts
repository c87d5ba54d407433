import type { EventStore } from '../core/event-store.js'
import { P } from './layout.js'

/** Events looked at to tell whether a search names one order. */
const LOOKED_AT = 51

/**
 * Where the search box leads: the event itself when the text is a whole order id (any case) with one event,
 * that order's events when it has several, else every event whose order id starts with it (the stores
 * match by prefix, without regard to case).
 */
export async function searchTarget(store: EventStore, text: string): Promise<string> {
  const q = text.trim().slice(0, 200)
  if (q === '') return `${P}/events`
  const found = await store.list({ limit: LOOKED_AT, order: q })
  const wanted = q.toLowerCase()
  const whole = found.filter(
    (e) => e.merchantOrderId?.toLowerCase() === wanted || e.orderId?.toLowerCase() === wanted,
  )
  const [first] = whole
  if (first !== undefined && whole.length === 1) return `${P}/events/${encodeURIComponent(first.id)}`
  // The order id as stored, so the list's filter box shows it as the relay knows it.
  const stored = first?.merchantOrderId?.toLowerCase() === wanted ? first.merchantOrderId : first?.orderId
  return `${P}/events?order=${encodeURIComponent(stored ?? q)}`
}
