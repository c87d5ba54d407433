import type { Logger } from 'pino'
import type { EventStore } from '../core/event-store.js'
import { ALWAYS_HELD, type ForwardingLease } from '../core/forwarding-lease.js'
import { type ForwarderObserver, NO_FORWARDER_OBSERVER } from '../core/observers.js'
import type { Sink } from '../core/sink.js'
import { FORWARD_BATCH_MAX_BYTES, FORWARDER_STORE_LIMITS } from './forward-tuning.js'
import type { HealthLimits } from './forwarder-health.js'

export interface ForwarderOptions {
  readonly store: EventStore
  readonly sink: Sink
  readonly logger: Logger
  /** Told of each batch sent and what came of its events; nothing when omitted. */
  readonly observer?: ForwarderObserver
  readonly retryMaxAgeMs: number
  /** The services it forwards (a downstream per service); every service when undefined. */
  readonly services?: readonly string[] | undefined
  /** The services its status reports; null for "every service without a downstream of its own". */
  readonly statusServices?: readonly string[] | null
  readonly batchSize?: number
  /** Body bytes one batch may hold (see byte-budget.ts). */
  readonly maxBytes?: number
  readonly backoffBaseMs?: number
  readonly backoffMaxMs?: number
  /** How often an idle forwarder looks for events queued by another process (`events replay`). */
  readonly idlePollMs?: number
  /** After a batch under a quarter of `batchSize`, how long to let the next one gather. */
  readonly gatherMs?: number
  readonly storeLimits?: HealthLimits
  /** Without it, the store hands out nothing, and finding nothing is not progress. */
  readonly lease?: Pick<ForwardingLease, 'held'>
  /** The store failed past `storeLimits.exitAfterMs`, or the loop ended: the process should exit 1. */
  readonly onFatal?: (err: unknown) => void
  /** Clocks, for tests: the wall clock, and a monotonic one (ms). */
  readonly now?: () => number
  readonly monotonic?: () => number
}

export type ResolvedOptions = Required<Omit<ForwarderOptions, 'services' | 'statusServices'>>

export function withDefaults(options: ForwarderOptions): ResolvedOptions {
  return {
    batchSize: 1_000,
    maxBytes: FORWARD_BATCH_MAX_BYTES,
    backoffBaseMs: 500,
    backoffMaxMs: 30_000,
    idlePollMs: 1_000,
    gatherMs: 10,
    storeLimits: FORWARDER_STORE_LIMITS,
    observer: NO_FORWARDER_OBSERVER,
    lease: ALWAYS_HELD,
    onFatal: () => {},
    now: Date.now,
    monotonic: performance.now.bind(performance),
    ...options,
  }
}
