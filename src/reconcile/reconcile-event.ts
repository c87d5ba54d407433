import { createHash } from 'node:crypto'
import type { RelayEvent } from '../core/event.js'
import type { OrderRecord } from '../core/order-ledger.js'
import type { Metadata } from '../event/extract-metadata.js'

/**
 * The id of a recovered state: a pure function of (service, product, order, status), so a re-run, a crash
 * after the commit or a second replica produce the same id, which the store and consumers drop as a repeat.
 */
export function reconcileEventId(order: OrderRecord, status: string): string {
  const digest = createHash('sha256')
    .update([order.service, order.product, order.orderKey, status].join('\0'))
    .digest('hex')
  return `rec_${digest.slice(0, 32)}`
}

/** The event for Tylt's answer: its bytes as received, no Tylt signature, ids the answer lacks from the ledger. */
export function reconcileEvent(
  order: OrderRecord,
  read: Metadata & { readonly status: string },
  body: Buffer,
  now: number,
): RelayEvent {
  return {
    id: reconcileEventId(order, read.status),
    service: order.service,
    acceptedAt: now,
    signature: '',
    body,
    recovered: 'reconcile',
    product: order.product,
    orderId: order.orderId ?? read.orderId,
    merchantOrderId: order.merchantOrderId ?? read.merchantOrderId,
    status: read.status,
    final: read.final,
    deadline: read.deadline,
  }
}
