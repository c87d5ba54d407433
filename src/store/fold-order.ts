import type { Finality, Product, Recovery } from '../core/event.js'
import type { OrderRecord, StateSource } from '../core/order-ledger.js'

/** The columns of a committed event the ledger reads. */
export interface LedgerEventRow {
  readonly seq: number
  readonly service: string
  readonly product: Product
  readonly orderId: string | null
  readonly merchantOrderId: string | null
  readonly status: string | null
  readonly final: Finality
  readonly recovered: Recovery | null
  readonly acceptedAt: number
  readonly deadline: number | null
}

/** India INR payouts carry no deadline; Tylt's pages say they are processed within 30 to 60 minutes. */
export const INR_PAYOUT_WINDOW_MS = 60 * 60_000

/**
 * When the order should have moved on by: the deadline its body gave (read on acceptance), else the
 * event's time, an hour later for an INR payout. Events stored before the relay read deadlines have none.
 */
export const deadlineOf = (row: LedgerEventRow): number =>
  row.deadline ?? (row.product === 'inr-payout' ? row.acceptedAt + INR_PAYOUT_WINDOW_MS : row.acceptedAt)

/** The key the ledger files an event under: Tylt's id when the body has one, else the merchant's. */
export const orderKeyOf = (row: Pick<LedgerEventRow, 'orderId' | 'merchantOrderId'>): string | null =>
  row.orderId ?? row.merchantOrderId

const sourceOf = (recovered: Recovery | null): StateSource =>
  recovered === 'reconcile' ? 'reconcile' : 'callback'

/**
 * The ledger's record after one committed event; undefined when the event names no product or order. A
 * final success is never replaced by a later non-final state (a callback that arrived out of order); a
 * failure may still turn into a success (a manual settlement).
 */
export function foldOrder(
  existing: OrderRecord | undefined,
  row: LedgerEventRow,
  graceMs: number,
): OrderRecord | undefined {
  const key = orderKeyOf(row)
  if (key === null || row.product === 'unknown') return undefined
  const orderId = existing?.orderId ?? row.orderId
  const merchantOrderId = existing?.merchantOrderId ?? row.merchantOrderId
  if (existing === undefined) {
    const deadline = deadlineOf(row)
    return {
      service: row.service,
      product: row.product,
      orderKey: key,
      orderId,
      merchantOrderId,
      status: row.status,
      final: row.final,
      source: sourceOf(row.recovered),
      firstSeen: row.acceptedAt,
      lastSeen: row.acceptedAt,
      deadline,
      nextCheck: row.final === 'true' ? null : deadline + graceMs,
      checks: 0,
      lastResult: null,
      abandonedAt: null,
    }
  }
  const lastSeen = Math.max(existing.lastSeen, row.acceptedAt)
  const regress = existing.final === 'true' && row.final !== 'true'
  const status = row.status ?? existing.status
  if (regress || status === existing.status) return { ...existing, orderId, merchantOrderId, lastSeen }
  const deadline = deadlineOf(row)
  return {
    ...existing,
    orderId,
    merchantOrderId,
    status,
    final: row.final,
    source: sourceOf(row.recovered),
    lastSeen,
    deadline,
    nextCheck: row.final === 'true' ? null : deadline + graceMs,
    checks: 0,
    abandonedAt: null,
  }
}
