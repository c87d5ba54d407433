import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { SHUTDOWN_TAIL_MS } from './constants.js'
import type { EventStore } from './core/event-store.js'
import type { Forwarder } from './forward/forwarder.js'
import { within } from './forward/within.js'

export interface StopReport {
  /** True when every downstream took everything pending before the grace ran out. */
  readonly drained: boolean
  /** Events left pending (sent after a restart), or null when the store could not say. */
  readonly pending: number | null
}

export interface RelayParts {
  readonly app: FastifyInstance
  readonly ops: FastifyInstance
  readonly forwarders: readonly Forwarder[]
  readonly store: EventStore
  readonly quarantine: { close(): Promise<void> } | undefined
  readonly releaseDataDir: () => void
  readonly logger: Logger
}

/**
 * Stops taking connections and drains while the downstreams make progress, within `graceMs`; then closes
 * the operations listener, the quarantine and the store (docs/operations.md, "Stopping"). Every step is
 * bounded, so the whole takes at most `graceMs` plus SHUTDOWN_TAIL_MS, and nothing it opened is left to
 * keep the process alive (listeners, sink connections, the store's pool and its PostgreSQL session).
 */
export async function stopRelay(parts: RelayParts, graceMs: number): Promise<StopReport> {
  const { logger, store } = parts
  const [, drained] = await Promise.all([
    within(closeQuietly(parts.app, logger), graceMs),
    Promise.all(parts.forwarders.map((f) => f.stop(graceMs))),
  ])
  await within(closeQuietly(parts.ops, logger), SHUTDOWN_TAIL_MS / 4)
  const pending = await store.stats().then(
    (stats) => stats.pending,
    () => null,
  )
  await within(
    (parts.quarantine?.close() ?? Promise.resolve()).catch((err: unknown) =>
      logger.warn({ err }, 'quarantine did not close cleanly'),
    ),
    SHUTDOWN_TAIL_MS / 4,
  )
  await store.close().catch((err: unknown) => logger.error({ err }, 'store did not close cleanly'))
  parts.releaseDataDir()
  return { drained: drained.every(Boolean), pending }
}

async function closeQuietly(app: FastifyInstance, logger: Logger) {
  await app.close().catch((err: unknown) => logger.warn({ err }, 'listener did not close cleanly'))
}
