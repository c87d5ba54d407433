import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { buildApp } from './app.js'
import type { Config } from './config/load-config.js'
import { SecretRegistry } from './config/secret-registry.js'
import { Forwarder } from './forward/forwarder.js'
import { createSink } from './forward/sinks/create-sink.js'
import { createMetrics } from './ops/metrics.js'
import { buildOpsApp } from './ops/ops-app.js'
import { createQuarantine } from './quarantine/create-quarantine.js'
import { retryQuarantined } from './quarantine/retry-quarantined.js'
import { GroupCommitStore } from './store/group-commit-store.js'

const PRUNE_EVERY_MS = 10 * 60_000

/**
 * The process: open the store, build both listeners, listen, forward, and on SIGTERM or SIGINT stop taking
 * connections, finish in-flight requests, drain the forwarder within SHUTDOWN_GRACE, close, exit 0.
 */
export async function serve(config: Config, logger: Logger): Promise<void> {
  const store = new GroupCommitStore(config.dataDir)
  const metrics = createMetrics(store)
  store.onCommit = (events) => metrics.commitBatch.observe(events)
  // A store that cannot sync its log can only refuse callbacks: exit, so the supervisor restarts the relay
  // (SQLite recovers the log on the next start).
  store.onFailure = (err) => {
    logger.fatal({ err }, 'store cannot make events durable; exiting')
    exit(logger, 1)
  }
  const secrets = new SecretRegistry(config.services, logger)
  const forwarder =
    config.forward === undefined
      ? undefined
      : new Forwarder({
          store,
          sink: createSink(config.forward, { signingSecret: config.forwardSigningSecret }),
          logger,
          metrics,
          retryMaxAgeMs: config.retryMaxAgeMs,
        })
  const quarantine = createQuarantine(config, logger, metrics.quarantine)
  const app = buildApp(config, {
    logger,
    store,
    secrets,
    metrics,
    onAccepted: () => forwarder?.notify(),
    ...(quarantine && { quarantine }),
  })
  const ops = buildOpsApp({
    logger,
    store,
    metrics,
    console: config.opsToken && {
      token: config.opsToken,
      store,
      services: config.services.map((s) => s.name),
      registry: metrics.registry,
      downstreams: forwarder === undefined ? () => [] : undefined,
      wake: () => forwarder?.notify(),
      ...(quarantine && {
        quarantine: quarantine.store,
        retryQuarantined: async (id: string) => {
          const retrySecrets = {
            services: secrets.all(),
            signatureJsonFallback: config.signatureJsonFallback,
          }
          const [outcome] = await retryQuarantined(quarantine.store, store, retrySecrets, [id], Date.now())
          if (outcome?.outcome === 'accepted') forwarder?.notify()
          return outcome?.outcome ?? 'missing'
        },
      }),
    },
  })
  await ops.listen({ host: config.opsHost, port: config.opsPort })
  await app.listen({ host: config.host, port: config.port })
  forwarder?.start()
  const unwatch = secrets.watch()
  process.on('SIGHUP', () => secrets.reload())
  // Delivered events are forgotten after DEDUP_WINDOW; without a downstream the store is the destination.
  const prune = setInterval(() => {
    if (forwarder !== undefined) store.prune(Date.now() - config.dedupWindowMs).catch(() => undefined)
  }, PRUNE_EVERY_MS).unref()
  logger.info(
    {
      services: config.services.map((s) => s.name),
      downstream: forwarder ? config.forward?.kind : 'embedded',
    },
    'tylt-relay ready',
  )

  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'stopping: no new connections, draining')
    const deadline = setTimeout(() => {
      logger.error('shutdown grace exceeded; exiting')
      exit(logger, 1)
    }, config.shutdownGraceMs + 10_000)
    clearInterval(prune)
    unwatch()
    await closeQuietly(app, logger)
    const drained = (await forwarder?.stop(config.shutdownGraceMs)) ?? true
    await closeQuietly(ops, logger)
    await quarantine
      ?.close()
      .catch((err: unknown) => logger.warn({ err }, 'quarantine did not close cleanly'))
    await store.close()
    clearTimeout(deadline)
    logger.info({ drained }, 'stopped')
    exit(logger, 0)
  }
  process.once('SIGTERM', () => void stop('SIGTERM'))
  process.once('SIGINT', () => void stop('SIGINT'))
}

async function closeQuietly(app: FastifyInstance, logger: Logger) {
  await app.close().catch((err: unknown) => logger.warn({ err }, 'listener did not close cleanly'))
}

/** Exits once the asynchronous log destination has written what it holds. */
function exit(logger: Logger, code: number): void {
  setTimeout(() => process.exit(code), 1_000).unref()
  logger.flush(() => process.exit(code))
}
