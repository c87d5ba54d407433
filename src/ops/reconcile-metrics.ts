import { Counter, Gauge, type Registry } from 'prom-client'
import type { ReconcileObserver } from '../reconcile/reconcile-observer.js'
import { METRICS_PREFIX } from './process-metrics.js'

/** Reconcile's metrics (docs/reconcile.md): requests to Tylt, emitted states, abandoned orders, the last round. */
export function reconcileObserver(registry: Registry): ReconcileObserver {
  const registers = [registry]
  const requests = new Counter({
    name: `${METRICS_PREFIX}reconcile_requests_total`,
    help: "Requests to Tylt's query API by service and outcome: ok, not-found, auth, rate-limited, error",
    labelNames: ['service', 'outcome'],
    registers,
  })
  const emitted = new Counter({
    name: `${METRICS_PREFIX}reconcile_emitted_total`,
    help: 'States Tylt reported that no callback had brought, emitted as events, by service and product',
    labelNames: ['service', 'product'],
    registers,
  })
  const abandoned = new Counter({
    name: `${METRICS_PREFIX}reconcile_abandoned_total`,
    help: 'Orders given up on after RECONCILE_MAX_AGE without a final state (listed by reconcile --json)',
    registers,
  })
  const due = new Gauge({
    name: `${METRICS_PREFIX}reconcile_due_orders`,
    help: 'Orders that were due for a check at the start of the last round',
    registers,
  })
  const lastRun = new Gauge({
    name: `${METRICS_PREFIX}reconcile_last_run_timestamp_seconds`,
    help: 'When the last reconcile round of this replica ended; 0 before the first',
    registers,
  })
  return {
    onRequest: (service, outcome) => requests.inc({ service, outcome }),
    onEmitted: (service, product) => emitted.inc({ service, product }),
    onAbandoned: (count) => abandoned.inc(count),
    onRun(count, at) {
      due.set(count)
      lastRun.set(at / 1000)
    },
  }
}
