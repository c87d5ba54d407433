import type { Logger } from 'pino'
import type { EventStore } from '../core/event-store.js'
import type { ForwardingLease } from '../core/forwarding-lease.js'
import type { ForwarderObserver } from '../core/observers.js'
import type { Sink } from '../core/sink.js'
import { forwardByteBudget } from './byte-budget.js'
import type { PlannedDownstream } from './downstream-plan.js'
import { Forwarder } from './forwarder.js'
import { createSink } from './sinks/create-sink.js'

export interface ForwardersDeps {
  readonly store: EventStore
  readonly logger: Logger
  /** The observer of each downstream's forwarder (metrics). */
  readonly observe: (sink: Sink) => ForwarderObserver
  readonly retryMaxAgeMs: number
  /** Replicas on PostgreSQL: only the holder forwards, and only its empty reads count as progress. */
  readonly lease: ForwardingLease
  /** Told when a forwarder's store stays unusable past its bound: a restart reopens it. */
  readonly onFatal: (downstream: string) => void
}

/**
 * One forwarder per planned downstream, each with its sink, sharing the memory budget. When a sink cannot be
 * created, the ones already created are closed before the error is thrown: their connections would keep the
 * process alive.
 */
export async function createForwarders(
  plan: readonly PlannedDownstream[],
  deps: ForwardersDeps,
): Promise<{ forwarders: Forwarder[]; sinks: Sink[] }> {
  const created = await Promise.allSettled(
    plan.map((d) => createSink(d.forward, { signingSecret: d.signingSecret })),
  )
  const sinks = created.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
  const failed = created.find((r) => r.status === 'rejected')
  if (failed !== undefined) {
    await Promise.all(sinks.map((sink: Sink) => sink.close().catch(() => undefined)))
    throw failed.reason
  }
  const { store, logger, retryMaxAgeMs, lease } = deps
  const maxBytes = forwardByteBudget(plan.length)
  const forwarders = plan.map(
    (downstream, index) =>
      new Forwarder({
        ...{ store, sink: sinks[index]!, logger, maxBytes, retryMaxAgeMs, lease },
        observer: deps.observe(sinks[index]!),
        services: downstream.reads,
        statusServices: downstream.services,
        onFatal: () => deps.onFatal(downstream.target),
      }),
  )
  return { forwarders, sinks }
}
