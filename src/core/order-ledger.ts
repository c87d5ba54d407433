import type { Finality, Product } from './event.js'

/** Where the ledger's last state of an order came from. */
export type StateSource = 'callback' | 'reconcile' | 'manual'

/** What the relay knows of one order: the last state it saw and when to ask Tylt next. */
export interface OrderRecord {
  readonly service: string
  readonly product: Product
  /** Tylt's id (order id, or instance id) when known, else the merchant's. */
  readonly orderKey: string
  readonly orderId: string | null
  readonly merchantOrderId: string | null
  readonly status: string | null
  readonly final: Finality
  readonly source: StateSource
  /** Times in milliseconds since the epoch. */
  readonly firstSeen: number
  readonly lastSeen: number
  /** When Tylt said the order expires, else when it was last seen. */
  readonly deadline: number
  /** When to ask Tylt next; null once final. */
  readonly nextCheck: number | null
  readonly checks: number
  /** The last check's outcome (`unchanged`, `emitted`, `not-found`, `error: ...`); null before any. */
  readonly lastResult: string | null
  /** Set once the order passed RECONCILE_MAX_AGE unresolved: never checked again, never dropped. */
  readonly abandonedAt: number | null
}

/** What a check changes on a record. */
export interface CheckUpdate {
  readonly nextCheck: number | null
  readonly checks: number
  readonly lastResult: string
  readonly abandonedAt?: number | null
}

export type OrderRef = Pick<OrderRecord, 'service' | 'product' | 'orderKey'>

/** The key the ledger files an order under: Tylt's id when known, else the merchant's. */
export const orderKeyOf = (ids: Pick<OrderRecord, 'orderId' | 'merchantOrderId'>): string | null =>
  ids.orderId ?? ids.merchantOrderId

/**
 * The order ledger: fed from committed events by a follower (never by the webhook path), read and scheduled
 * by reconcile. One adapter per backend, beside the event store.
 */
export interface OrderLedger {
  /**
   * Folds the events committed since the last call into the ledger; returns how many were read. `grace` is
   * added to a new deadline to give the first check.
   */
  catchUp(graceMs: number): Promise<number>
  /** Unresolved, not abandoned orders whose next check is due at `now`, oldest check first. */
  due(now: number, limit: number): Promise<OrderRecord[]>
  /**
   * Orders of `service` whose Tylt id or merchant id is `id` (an order's key is always one of the two, so it
   * is found by the two indexes, never by a scan).
   */
  find(id: string, service?: string): Promise<OrderRecord[]>
  /** Unresolved, not abandoned orders, oldest first (what the console lists as open). */
  open(limit: number): Promise<OrderRecord[]>
  /** Abandoned orders, newest first. */
  abandoned(limit: number): Promise<OrderRecord[]>
  /** Records a check; a lost race (another replica updated the row) is harmless: the last writer wins. */
  recordCheck(order: OrderRef, update: CheckUpdate): Promise<void>
  /** Takes (or keeps) the right to run the next round for `ttlMs`; false when another holder has it. */
  tryLease(holder: string, now: number, ttlMs: number): Promise<boolean>
  close(): Promise<void>
}
