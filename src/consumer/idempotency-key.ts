/** The parts of an event a consumer deduplicates on. */
export interface KeyParts {
  /** Null only where the delivery carried no service (a body read without the relay's metadata). */
  readonly service: string | null
  readonly merchantOrderId: string | null
  readonly orderId: string | null
  readonly status: string | null
}

/**
 * The key to deduplicate a state change on: (service, order, status), the order being the merchant's id,
 * else Tylt's. A re-send of the same callback and the same state reported again (by a later callback or by
 * reconciliation) share it; each new state of the order gets a new one. Each part is percent-encoded, so
 * no id can forge another's key.
 */
export function idempotencyKey(event: KeyParts): string {
  const order = event.merchantOrderId ?? event.orderId ?? ''
  return [event.service ?? '', order, (event.status ?? '').toLowerCase()].map(encodeURIComponent).join(':')
}
