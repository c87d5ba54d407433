import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { buildApp } from './app.js'
import type { Config } from './config/load-config.js'
import { SecretRegistry } from './config/secret-registry.js'
import { SHUTDOWN_TAIL_MS } from './constants.js'
import { forwardByteBudget } from './forward/byte-budget.js'
import { planDownstreams } from './forward/downstream-plan.js'
import { Forwarder } from './forward/forwarder.js'
import { createSink } from './forward/sinks/create-sink.js'
import { within } from './forward/within.js'
import { createMetrics } from './ops/metrics.js'
import { buildOpsApp } from './ops/ops-app.js'
import { createQuarantine } from './quarantine/create-quarantine.js'
import { retryQuarantined } from './quarantine/retry-quarantined.js'
import { startReconciler } from './reconcile/start-reconciler.js'
import { startLine } from './start-line.js'
import { lockDataDir } from './store/lock-data-dir.js'
import { openOrderLedger } from './store/open-order-ledger.js'
import { openSharedQuarantineStore, openStore } from './store/open-store.js'

const PRUNE_EVERY_MS = 10 * 60_000

/**
 * The process: open the store, build both listeners, listen, forward (one forwarder per downstream), and on
 * SIGTERM or SIGINT stop taking connections, drain while the downstreams make progress, within
 * SHUTDOWN_GRACE, close the store, and exit 0 (docs/operations.md, "Stopping").
 */
export async function serve(config: Config, logger: Logger): Promise<void> {
  // One relay per DATA_DIR: a second one would share the store's log and its forwarding order. Replicas on
  // PostgreSQL share their store by design and coordinate through its forwarding lease instead.
  const releaseDataDir = config.storeUrl === undefined ? lockDataDir(config.dataDir) : () => {}
  const { store, lease } = await openStore(config, {
    logger,
    onCommit: (events) => metrics.commitBatch.observe(events),
    // A store that cannot sync its log can only refuse callbacks: exit, so the supervisor restarts the relay
    // (SQLite recovers the log on the next start).
    onFailure: (err) => {
      logger.fatal({ err }, 'store cannot make events durable; exiting')
      exit(logger, 1)
    },
  })
  const metrics = createMetrics(store)
  const plan = planDownstreams(config)
  const maxBytes = forwardByteBudget(plan.length)
  const sinks = await Promise.all(plan.map((d) => createSink(d.forward, { signingSecret: d.signingSecret })))
  const forwarders = plan.map(
    (downstream, index) =>
      new Forwarder({
        store,
        sink: sinks[index]!,
        services: downstream.reads,
        statusServices: downstream.services,
        logger,
        metrics,
        maxBytes,
        retryMaxAgeMs: config.retryMaxAgeMs,
        // A store unusable for this long will not heal by itself: a restart reopens it.
        onFatal: () => {
          logger.fatal({ downstream: downstream.target }, 'forwarder cannot use the store; exiting')
          void store.close().finally(() => exit(logger, 1))
        },
      }),
  )
  for (const forwarder of forwarders) metrics.addDownstream(() => forwarder.status())
  const secrets = new SecretRegistry(config.services, logger)
  // Read by the console: the store forgets delivered events after DEDUP_WINDOW, this does not.
  const lastAccepted = new Map<string, number>()
  const wakeForwarders = () => {
    for (const forwarder of forwarders) forwarder.notify()
  }
  const onAccepted = (service: string, acceptedAt: number) => {
    lastAccepted.set(service, acceptedAt)
    wakeForwarders()
  }
  // Replicas on PostgreSQL: only the lease holder is handed pending events; any replica's commit wakes it.
  lease.onWake(wakeForwarders)
  const quarantine = createQuarantine(
    config,
    logger,
    metrics.quarantine,
    await openSharedQuarantineStore(config),
  )
  const app = buildApp(config, {
    logger,
    store,
    secrets,
    metrics,
    onAccepted,
    ...(quarantine && { quarantine }),
  })
  const ops = buildOpsApp({
    logger,
    store,
    metrics,
    forwarders,
    console: config.opsToken && {
      token: config.opsToken,
      store,
      services: config.services.map((s) => s.name),
      registry: metrics.registry,
      lastAccepted,
      downstreams: () => forwarders.map((f) => f.status()),
      wake: wakeForwarders,
      ...(quarantine && {
        quarantine: quarantine.store,
        retryQuarantined: async (id: string) => {
          const retrySecrets = {
            services: secrets.all(),
            signatureJsonFallback: config.signatureJsonFallback,
          }
          const [outcome] = await retryQuarantined(quarantine.store, store, retrySecrets, [id], Date.now())
          if (outcome?.outcome === 'accepted') wakeForwarders()
          return outcome?.outcome ?? 'missing'
        },
      }),
    },
  })
  try {
    await ops.listen({ host: config.opsHost, port: config.opsPort })
    await app.listen({ host: config.host, port: config.port })
  } catch (err) {
    // An open listener, or the store's connections (PostgreSQL), would keep the process alive.
    await closeQuietly(ops, logger)
    await quarantine?.close().catch(() => undefined)
    await store.close()
    releaseDataDir()
    throw err
  }
  for (const forwarder of forwarders) forwarder.start()
  const unwatch = secrets.watch()
  const stopReconciler = startReconciler({
    config: config.reconcile,
    store,
    openLedger: () => openOrderLedger(config),
    secretOf: (service) => secrets.get(service)?.secrets[0],
    maxBytes: config.bodyLimit,
    logger,
    onEmitted: wakeForwarders,
  })
  process.on('SIGHUP', () => secrets.reload())
  // Delivered events are forgotten after DEDUP_WINDOW; without a downstream the store is the destination.
  const prune = setInterval(() => {
    if (forwarders.length > 0) store.prune(Date.now() - config.dedupWindowMs).catch(() => undefined)
  }, PRUNE_EVERY_MS).unref()
  const line = startLine(config, plan, app, ops)
  logger.info(line.fields, line.message)
  // Told at start, not at the first callback: a missing exchange or stream, a consumer that refuses.
  for (const sink of sinks) {
    void sink.check?.().then((warning) => {
      if (warning !== undefined) {
        logger.warn({ downstream: sink.target, kind: sink.kind, warning }, `downstream not ready: ${warning}`)
      }
    })
  }

  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'already stopping; the stop ends within SHUTDOWN_GRACE')
      return
    }
    stopping = true
    const graceMs = config.shutdownGraceMs
    logger.info(
      { signal, graceMs },
      'stopping: no new connections, draining while the downstream takes events',
    )
    // Every step below is bounded; this only catches a bug in one of them.
    const deadline = setTimeout(
      () => {
        logger.error('shutdown took longer than SHUTDOWN_GRACE; exiting')
        exit(logger, 1)
      },
      graceMs + 2 * SHUTDOWN_TAIL_MS,
    )
    clearInterval(prune)
    unwatch()
    await stopReconciler()
    const [, drained] = await Promise.all([
      within(closeQuietly(app, logger), graceMs),
      Promise.all(forwarders.map((f) => f.stop(graceMs))),
    ])
    await within(closeQuietly(ops, logger), SHUTDOWN_TAIL_MS / 4)
    const pending = await store.stats().then(
      (stats) => stats.pending,
      () => null,
    )
    await within(
      (quarantine?.close() ?? Promise.resolve()).catch((err: unknown) =>
        logger.warn({ err }, 'quarantine did not close cleanly'),
      ),
      SHUTDOWN_TAIL_MS / 4,
    )
    await store.close().catch((err: unknown) => logger.error({ err }, 'store did not close cleanly'))
    releaseDataDir()
    clearTimeout(deadline)
    // Every acknowledged event was durable before it was acknowledged: pending ones go out after a restart.
    logger.info(
      { drained: drained.every(Boolean), pending },
      `stopped; ${pending ?? 'unknown'} events pending`,
    )
    exit(logger, 0)
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))
}

async function closeQuietly(app: FastifyInstance, logger: Logger) {
  await app.close().catch((err: unknown) => logger.warn({ err }, 'listener did not close cleanly'))
}

/** Exits once the asynchronous log destination has written what it holds. */
function exit(logger: Logger, code: number): void {
  setTimeout(() => process.exit(code), 1_000).unref()
  logger.flush(() => process.exit(code))
}
