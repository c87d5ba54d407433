import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { buildApp } from './app.js'
import type { Config } from './config/load-config.js'
import { SecretRegistry } from './config/secret-registry.js'
import { consoleMount, type QuarantineVerdict } from './console/console-deps.js'
import type { EventStore } from './core/event-store.js'
import type { ForwardingLease } from './core/forwarding-lease.js'
import type { OrderLedger, OrderRecord } from './core/order-ledger.js'
import type { QuarantinedRequest } from './core/quarantine-store.js'
import { createForwarders } from './forward/create-forwarders.js'
import { hasDownstreamIn, planDownstreams } from './forward/downstream-plan.js'
import { reportBacklog } from './forward/report-backlog.js'
import { createMetrics } from './ops/metrics.js'
import { buildOpsApp } from './ops/ops-app.js'
import { createQuarantine } from './quarantine/create-quarantine.js'
import { recover, retryQuarantined } from './quarantine/retry-quarantined.js'
import { checkNow } from './reconcile/check-now.js'
import { Reconciler } from './reconcile/reconciler.js'
import { startReconciler } from './reconcile/start-reconciler.js'
import { listen } from './relay-listen.js'
import { type StopReport, stopRelay } from './relay-stop.js'
import { startLine } from './start-line.js'
import { lockDataDir } from './store/lock-data-dir.js'
import { openOrderLedger } from './store/open-order-ledger.js'
import { openStore } from './store/open-store.js'

const PRUNE_EVERY_MS = 10 * 60_000

export interface Relay {
  readonly app: FastifyInstance
  readonly ops: FastifyInstance
  readonly store: EventStore
  /** Listens on PORT and OPS_PORT, then forwards; on failure closes everything it opened and throws. */
  start(): Promise<void>
  /** Stops taking connections, drains within `graceMs`, closes the store; bounded, never throws. */
  stop(graceMs: number): Promise<StopReport>
  /** Reads the secrets again (SIGHUP). */
  reloadSecrets(): void
}

export interface RelayOptions {
  /** Told when the relay can no longer work (the store cannot make events durable): the process exits. */
  readonly onFatal?: (reason: string) => void
}

/**
 * The composition root: the store, one forwarder per downstream, the quarantine, the webhook and operations
 * listeners, wired together. It never listens until `start`, and never touches the process: signals, exit
 * codes and log flushing are server.ts's.
 */
export async function createRelay(
  config: Config,
  logger: Logger,
  options: RelayOptions = {},
): Promise<Relay> {
  const fatal = options.onFatal ?? ((reason: string) => logger.fatal(reason))
  // One relay per DATA_DIR; replicas on PostgreSQL coordinate through its forwarding lease instead.
  const releaseDataDir = config.storeUrl === undefined ? lockDataDir(config.dataDir) : () => {}
  // Read at scrape time only, once the store and the forwarders exist.
  // The store's forwarding lease once it is open; until then this process holds nothing.
  let openLease: ForwardingLease | undefined
  const lease: ForwardingLease = {
    get held() {
      return openLease?.held ?? false
    },
    get holderSilentMs() {
      return openLease?.holderSilentMs ?? 0
    },
    onWake: (listener) => openLease?.onWake(listener),
    close: async () => {},
  }
  const metrics = createMetrics({
    stats: () => store.stats(),
    downstreams: () => forwarders.map((f) => f.status()),
    lease: () => openLease,
  })
  const plan = planDownstreams(config)
  const {
    store,
    quarantine: shared,
    opened,
  } = openStore(config, {
    logger,
    observer: metrics.store,
    hasDownstream: hasDownstreamIn(plan),
    onFailure: (err) => {
      logger.fatal({ err }, 'store cannot make events durable; exiting')
      fatal('store')
    },
  })
  const { forwarders, sinks } = await createForwarders(plan, {
    ...{
      store,
      logger,
      lease,
      observe: (sink) => metrics.forwarder(sink),
      retryMaxAgeMs: config.retryMaxAgeMs,
    },
    onFatal: (downstream) => {
      logger.fatal({ downstream }, 'forwarder cannot use the store; exiting')
      fatal('forwarder')
    },
  }).catch(async (err: unknown) => {
    await store.close()
    releaseDataDir()
    throw err
  })
  const secrets = new SecretRegistry(config.services, logger)
  const lastAccepted = new Map<string, number>() // read by the console: outlives DEDUP_WINDOW
  const wake = () => {
    for (const forwarder of forwarders) forwarder.notify()
  }
  const quarantine = createQuarantine(config, logger, metrics.quarantine, shared)
  const onAccepted = (service: string, at: number) => {
    lastAccepted.set(service, at)
    wake()
  }
  const app = buildApp(config, {
    logger,
    store,
    secrets,
    observers: metrics,
    onAccepted,
    ...(quarantine && { quarantine }),
  })
  const retry = async (id: string) => {
    const using = { services: secrets.all(), signatureJsonFallback: config.signatureJsonFallback }
    const [outcome] = await retryQuarantined(quarantine!.store, store, using, [id], Date.now())
    if (outcome?.outcome === 'accepted') wake()
    return outcome?.outcome ?? 'missing'
  }
  const verifyQuarantined = (request: QuarantinedRequest): QuarantineVerdict => {
    const found = recover(request, {
      services: secrets.all(),
      signatureJsonFallback: config.signatureJsonFallback,
    })
    return found.ok
      ? { verifies: true, service: found.event.service, slot: found.slot }
      : { verifies: false, reason: found.reason }
  }
  // The console's Orders screen: the ledger on a connection of its own, opened at its first read.
  let consoleLedger: Promise<OrderLedger> | undefined
  const ordersLedger = async () => {
    consoleLedger ??= openOrderLedger(config).catch((err: unknown) => {
      consoleLedger = undefined
      throw err
    })
    const ledger = await consoleLedger
    await ledger.catchUp(config.reconcile.afterMs)
    return ledger
  }
  let checker: Reconciler | undefined
  const checkOrder = async (order: OrderRecord) => {
    checker ??= new Reconciler({
      ...{ store, ledger: await ordersLedger(), config: config.reconcile, maxBytes: config.bodyLimit },
      ...{
        secretOf: (service: string) => secrets.get(service)?.secrets[0],
        logger,
        observer: metrics.reconcile,
      },
    })
    const outcome = await checkNow(checker, order)
    if (outcome.action === 'emitted') wake()
    return outcome
  }
  const orders = {
    ledger: ordersLedger,
    checkable: config.reconcile.targets.map((t) => t.service),
    checkNow: checkOrder,
  }
  const console = config.opsToken && {
    ...{ token: config.opsToken, store, services: config.services.map((s) => s.name), lastAccepted, wake },
    ...{ registry: metrics.registry, downstreams: () => forwarders.map((f) => f.status()), orders },
    ...(quarantine && { quarantine: quarantine.store, retryQuarantined: retry, verifyQuarantined }),
  }
  const ops = buildOpsApp({ logger, store, metrics, forwarders, console: console && consoleMount(console) })

  let prune: NodeJS.Timeout | undefined
  let unwatch = () => {}
  let stopReconciler = async () => {}
  let stopped: Promise<StopReport> | undefined
  opened.catch(() => undefined) // told in start()
  // Forwarding starts once the store is open (at once, unless the database is not up yet).
  const forward = () =>
    opened.then(
      (lease) => {
        openLease = lease
        if (stopped !== undefined) return
        lease.onWake(wake) // replicas on PostgreSQL: any replica's commit wakes the lease holder
        for (const forwarder of forwarders) forwarder.start()
        void reportBacklog(store, plan, logger).catch((err: unknown) =>
          logger.warn({ err }, 'cannot count the backlog'),
        )
      },
      (err: unknown) => {
        if (stopped !== undefined) return
        logger.fatal({ err }, 'the store cannot be opened; exiting')
        fatal('store')
      },
    )
  const parts = { app, ops, forwarders, store, quarantine, releaseDataDir, logger }
  return {
    app,
    ops,
    store,
    async start() {
      await listen(config, app, ops).catch(async (err: unknown) => {
        // Every sink connection, timer and pool closed: a relay that cannot serve must not keep the process.
        stopped ??= stopRelay(parts, 0)
        await stopped
        throw err
      })
      void forward()
      unwatch = secrets.watch()
      // RECONCILE_INTERVAL: asks Tylt about open orders now and then (docs/reconcile.md); off by default.
      stopReconciler = startReconciler({
        config: config.reconcile,
        store,
        openLedger: () => openOrderLedger(config),
        secretOf: (service) => secrets.get(service)?.secrets[0],
        maxBytes: config.bodyLimit,
        logger,
        observer: metrics.reconcile,
        onEmitted: wake,
      })
      // Delivered events are forgotten after DEDUP_WINDOW; without a downstream the store is the destination.
      prune = setInterval(() => {
        if (forwarders.length > 0) store.prune(Date.now() - config.dedupWindowMs).catch(() => undefined)
      }, PRUNE_EVERY_MS).unref()
      const line = startLine(config, plan, app, ops)
      logger.info(line.fields, line.message)
      // Told at start, not at the first callback: a missing exchange or stream, a consumer that refuses.
      for (const sink of sinks) {
        void sink.check?.().then((warning) => {
          if (warning === undefined) return
          logger.warn(
            { downstream: sink.target, kind: sink.kind, warning },
            `downstream not ready: ${warning}`,
          )
        })
      }
    },
    stop(graceMs) {
      clearInterval(prune)
      unwatch()
      stopped ??= stopReconciler()
        .then(() => stopRelay(parts, graceMs))
        .then(async (report) => {
          await consoleLedger?.then((ledger) => ledger.close()).catch(() => {})
          return report
        })
      return stopped
    },
    reloadSecrets: () => void secrets.reload(),
  }
}
