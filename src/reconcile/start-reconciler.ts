import type { KeyObject } from 'node:crypto'
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { Logger } from 'pino'
import type { ReconcileConfig } from '../config/reconcile-config.js'
import type { EventStore } from '../core/event-store.js'
import type { OrderLedger } from '../core/order-ledger.js'
import { NO_OBSERVER, type ReconcileObserver } from './reconcile-observer.js'
import { Reconciler } from './reconciler.js'

/** How long `stop` waits for a round in progress (its requests are bounded by RECONCILE_TIMEOUT). */
const STOP_WAIT_MS = 2_000

export interface StartReconcilerOptions {
  readonly config: ReconcileConfig
  readonly store: EventStore
  /** Opens the ledger beside the store (openOrderLedger); called once, when reconcile first runs. */
  readonly openLedger: () => Promise<OrderLedger>
  readonly secretOf: (service: string) => KeyObject | undefined
  readonly maxBytes: number
  readonly logger: Logger
  readonly observer?: ReconcileObserver
  /** Called after a round that emitted events: the forwarders need not wait for their next poll. */
  readonly onEmitted?: () => void
}

/**
 * Runs reconcile inside `serve` every RECONCILE_INTERVAL. Replicas that share a PostgreSQL store take turns
 * through a lease row of the ledger (held for two intervals, renewed each round by its holder), so each due
 * order is asked about by one replica per round. A round's failure is logged, never thrown: `serve` keeps
 * taking callbacks. Returns the function that stops it.
 */
export function startReconciler(options: StartReconcilerOptions): () => Promise<void> {
  const { config, logger } = options
  if (config.intervalMs === 0 || config.targets.length === 0) return async () => {}
  const holder = `${hostname()}:${process.pid}:${randomUUID()}`
  let ledger: OrderLedger | undefined
  let reconciler: Reconciler | undefined
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let round: Promise<void> = Promise.resolve()

  const once = async () => {
    ledger ??= await options.openLedger()
    reconciler ??= new Reconciler({
      store: options.store,
      ledger,
      config,
      secretOf: options.secretOf,
      maxBytes: options.maxBytes,
      logger,
      observer: options.observer ?? NO_OBSERVER,
    })
    const ttl = 2 * config.intervalMs
    if (!(await ledger.tryLease(holder, Date.now(), ttl))) return
    // A round may outlast the lease (slow answers, a Retry-After): renewed while it runs.
    const renew = setInterval(() => {
      ledger?.tryLease(holder, Date.now(), ttl).catch(() => undefined)
    }, ttl / 3).unref()
    let report: Awaited<ReturnType<Reconciler['run']>>
    try {
      report = await reconciler.run()
    } finally {
      clearInterval(renew)
    }
    for (const s of report.stopped) logger.error({ service: s.service }, `reconcile: ${s.reason}`)
    if (report.results.some((r) => r.action === 'emitted')) options.onEmitted?.()
  }
  const schedule = () => {
    if (stopped) return
    timer = setTimeout(() => {
      round = once()
        .catch((err: unknown) => logger.warn({ err }, 'reconcile round failed; the next round retries'))
        .finally(schedule)
    }, config.intervalMs)
    timer.unref()
  }
  schedule()
  return async () => {
    stopped = true
    clearTimeout(timer)
    await Promise.race([round, new Promise((resolve) => setTimeout(resolve, STOP_WAIT_MS).unref())])
    await ledger?.close().catch(() => {})
  }
}
