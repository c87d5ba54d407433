import type { OrderRef } from '../core/order-ledger.js'
import type { Action } from './order-result.js'
import type { Reconciler } from './reconciler.js'

/** What asking about one order came to: no request details, no ids beyond the order's own. */
export interface CheckNowOutcome {
  readonly action: Action
  readonly current: string | null
  readonly detail?: string | undefined
}

/** Asks Tylt about one order of the ledger now, whatever its schedule (the console's "check now"). */
export async function checkNow(reconciler: Reconciler, order: OrderRef): Promise<CheckNowOutcome> {
  const report = await reconciler.run({ orders: [{ id: order.orderKey, service: order.service }] })
  const result =
    report.results.find((r) => r.product === order.product && r.orderKey === order.orderKey) ??
    report.results[0]
  if (result === undefined) return { action: 'skipped', current: null }
  return { action: result.action, current: result.current, detail: result.detail }
}
