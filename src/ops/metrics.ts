import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { StoreStats } from '../core/event-store.js'
import type { ForwardingLease } from '../core/forwarding-lease.js'
import type {
  AdmissionObserver,
  ForwarderObserver,
  StoreObserver,
  WebhookObserver,
} from '../core/observers.js'
import type { QuarantineObserver } from '../core/quarantine-store.js'
import type { DownstreamStatus } from '../core/sink.js'
import type { ReconcileObserver } from '../reconcile/reconcile-observer.js'
import { METRICS_PREFIX, processRegistry } from './process-metrics.js'
import { reconcileObserver } from './reconcile-metrics.js'
import { downstreamGauges, storeGauges } from './scrape-gauges.js'

const PREFIX = METRICS_PREFIX

/** What the metrics read at scrape time; nothing here runs on the webhook path. */
export interface MetricsSources {
  /** The store's figures (pending, dead letters, oldest pending). */
  readonly stats: () => Promise<StoreStats>
  /** Each forwarder's status; none when omitted. */
  readonly downstreams?: () => readonly DownstreamStatus[]
  /** The forwarding lease as this replica sees it; held when omitted (the embedded store). */
  readonly lease?: () => ForwardingLease | undefined
}

/** The parts' observers over one registry; `/metrics` serves `registry`. */
export interface Metrics {
  /** This relay's metrics and the process's (docs/reference.md, section 7). */
  readonly registry: Registry
  readonly webhook: WebhookObserver
  readonly admission: AdmissionObserver
  readonly store: StoreObserver
  readonly quarantine: QuarantineObserver
  readonly reconcile: ReconcileObserver
  /** The observer of the forwarder to one downstream (`target` has no credentials). */
  forwarder(sink: { readonly kind: string; readonly target: string }): ForwarderObserver
}

/**
 * Every metric of docs/reference.md section 7, on a registry of its own so that several apps in one process
 * do not collide; the process's figures are shared (process-metrics.ts). Labels are bounded: service names
 * come from the configuration, never from a request.
 */
export function createMetrics(sources: MetricsSources): Metrics {
  const registry = new Registry()
  const registers = [registry]
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Counter<L>({ name: PREFIX + name, help, labelNames, registers })
  const histogram = <L extends string>(name: string, help: string, buckets: number[], labelNames: L[]) =>
    new Histogram<L>({ name: PREFIX + name, help, labelNames, buckets, registers })

  const requests = counter('webhook_requests_total', 'Webhook requests by service and outcome', [
    'service',
    'outcome',
  ])
  const signatureFailures = counter(
    'verification_failures_total',
    'Refused signatures by reason: missing, malformed or mismatch',
    ['service', 'reason'],
  )
  const refusals = counter(
    'webhook_refusals_total',
    'Requests refused on a webhook path by reason (missing, malformed, mismatch, unknown_service, bad_url); over_limit="true": the source was penalised (out of budget), so no JSON fallback and not quarantined',
    ['reason', 'over_limit'],
  )
  const abandoned = counter(
    'webhook_abandoned_total',
    'Webhook requests dropped before verification because their sender had already closed the connection (a flood that gave up)',
  )
  const secretMatches = counter(
    'secret_matches_total',
    'Verified callbacks by the secret that matched (current or older) and the bytes it matched (raw or json_fallback)',
    ['service', 'slot', 'bytes'],
  )
  const ackDuration = histogram(
    'ack_duration_seconds',
    'Time from a webhook request to its answer, by outcome',
    [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    ['outcome'],
  )
  const forwarded = counter(
    'events_forwarded_total',
    'Forwarding results by sink, downstream and outcome: delivered, failed (will retry), refused (dead letter at once) or dead (retries ran out)',
    ['sink', 'downstream', 'outcome'],
  )
  const forwardDuration = histogram(
    'forward_duration_seconds',
    'Time to deliver one batch to the downstream',
    [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    ['sink', 'downstream'],
  )
  const commitBatch = histogram(
    'store_commit_batch_size',
    'Events made durable by one fsync of the store log (group commit)',
    [1, 2, 4, 8, 16, 32, 64, 128, 256],
    [],
  )
  storeGauges(registry, sources.stats)
  downstreamGauges(registry, sources.downstreams ?? (() => []))
  const quarantine = quarantineObserver(registry)
  const reconcile = reconcileObserver(registry)
  // The forwarding lease as this replica sees it (docs/postgres.md, "One forwarder at a time").
  const lease = sources.lease ?? (() => undefined)
  new Gauge({
    name: `${PREFIX}forwarding_lease_held`,
    help: '1 while this replica holds the forwarding lease (always 1 on the embedded store)',
    registers,
    collect() {
      this.set(lease()?.held === false ? 0 : 1)
    },
  })
  new Gauge({
    name: `${PREFIX}forwarding_lease_holder_silent_seconds`,
    help: 'How long the session holding the forwarding lease elsewhere has run no statement; 0 when this replica holds it',
    registers,
    collect() {
      this.set((lease()?.holderSilentMs ?? 0) / 1000)
    },
  })

  return {
    // After every metric of this relay is registered: the merged registry takes those it finds.
    registry: Registry.merge([registry, processRegistry()]),
    webhook: {
      onAnswered(service, outcome, ms) {
        requests.inc({ service, outcome })
        ackDuration.observe({ outcome }, ms / 1000)
      },
      onRefused: (reason, overLimit) => refusals.inc({ reason, over_limit: overLimit ? 'true' : 'false' }),
      onSignatureFailed: (service, reason) => signatureFailures.inc({ service, reason }),
      onVerified: (service, slot, bytes) => secretMatches.inc({ service, slot, bytes }),
    },
    admission: {
      onAbandoned: () => abandoned.inc(),
    },
    store: { onCommitted: (events) => commitBatch.observe(events) },
    quarantine,
    reconcile,
    forwarder({ kind, target }) {
      const labels = { sink: kind, downstream: target }
      return {
        onSent: (seconds) => forwardDuration.observe(labels, seconds),
        onForwarded: (outcome, count) => forwarded.inc({ ...labels, outcome }, count),
      }
    },
  }
}

/** The quarantine's metrics (docs/quarantine.md). */
function quarantineObserver(registry: Registry): QuarantineObserver {
  const registers = [registry]
  const quarantined = new Counter({
    name: `${PREFIX}quarantined_total`,
    help: 'Refused webhook requests kept in quarantine, by service and reason: missing, malformed, mismatch, unknown_service',
    labelNames: ['service', 'reason'],
    registers,
  })
  const dropped = new Counter({
    name: `${PREFIX}quarantine_dropped_total`,
    help: 'Refused requests not kept (rate_limited, queue_full, too_large, write_failed) or no longer kept (expired, evicted, evicted_verified_source)',
    labelNames: ['cause'],
    registers,
  })
  const requests = new Gauge({
    name: `${PREFIX}quarantine_requests`,
    help: 'Requests in quarantine',
    registers,
  })
  const bytes = new Gauge({
    name: `${PREFIX}quarantine_bytes`,
    help: 'Bytes in quarantine, as counted against QUARANTINE_MAX_BYTES',
    registers,
  })
  return {
    onQuarantined: (reason, service) => quarantined.inc({ service, reason }),
    onDropped: (cause, count) => dropped.inc({ cause }, count),
    onStats: (stats) => {
      requests.set(stats.count)
      bytes.set(stats.bytes)
    },
  }
}
