import type { EventStore, StoreStats } from '../core/event-store.js'
import type { ForwardingLease } from '../core/forwarding-lease.js'
import type { QuarantineObserver } from '../core/quarantine-store.js'
import type { DownstreamStatus } from '../core/sink.js'
import { registerProcessMetrics } from './process-metrics.js'
import { Registry } from './prometheus.js'

const PREFIX = 'tylt_relay_'

/** Outcome of one webhook request; a bounded label set. */
export type Outcome =
  | 'accepted'
  | 'duplicate'
  | 'invalid_signature'
  | 'unknown_service'
  | 'too_large'
  | 'unavailable'
  | 'overloaded'
  | 'error'

/**
 * Every metric of docs/reference.md section 7, on a registry of its own so that several apps in one test process
 * do not collide. Labels are bounded: service names come from the configuration, never from a request.
 */
export function createMetrics(store: EventStore) {
  const registry = new Registry()
  const stopProcessMetrics = registerProcessMetrics(registry, PREFIX)
  const metrics = {
    registry,
    requests: registry.counter({
      name: `${PREFIX}webhook_requests_total`,
      help: 'Webhook requests by service and outcome',
      labelNames: ['service', 'outcome'],
    }),
    verificationFailures: registry.counter({
      name: `${PREFIX}verification_failures_total`,
      help: 'Refused signatures by reason: missing, malformed or mismatch',
      labelNames: ['service', 'reason'],
    }),
    refusals: registry.counter({
      name: `${PREFIX}webhook_refusals_total`,
      help: 'Requests refused on a webhook path by reason (missing, malformed, mismatch, unknown_service, bad_url); over_limit="true": past the source\'s failure limit, so no JSON fallback and not quarantined',
      labelNames: ['reason', 'over_limit'],
    }),
    webhookAbandoned: registry.counter({
      name: `${PREFIX}webhook_abandoned_total`,
      help: 'Webhook requests from sources not known to be Tylt dropped unread at their turn, their sender having closed the connection while they waited (a flood)',
    }),
    suspectConnectionsRefused: registry.counter({
      name: `${PREFIX}suspect_connections_refused_total`,
      help: 'Connections held unread or closed at once, from a source past its failure limit within the last minute, while suspects are shed (a forged flood)',
    }),
    secretMatches: registry.counter({
      name: `${PREFIX}secret_matches_total`,
      help: 'Verified callbacks by the secret that matched (current or older) and the bytes it matched (raw or json_fallback)',
      labelNames: ['service', 'slot', 'bytes'],
    }),
    ackDuration: registry.histogram({
      name: `${PREFIX}ack_duration_seconds`,
      help: 'Time from a webhook request to its answer, by outcome',
      labelNames: ['outcome'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    }),
    forwarded: registry.counter({
      name: `${PREFIX}events_forwarded_total`,
      help: 'Forwarding results by sink, downstream and outcome: delivered, failed (will retry), refused (dead letter at once) or dead (retries ran out)',
      labelNames: ['sink', 'downstream', 'outcome'],
    }),
    forwardDuration: registry.histogram({
      name: `${PREFIX}forward_duration_seconds`,
      help: 'Time to deliver one batch to the downstream',
      labelNames: ['sink', 'downstream'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    }),
    commitBatch: registry.histogram({
      name: `${PREFIX}store_commit_batch_size`,
      help: 'Events made durable by one fsync of the store log (group commit)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    }),
  }
  // Store gauges are read at scrape time: one store query per scrape, nothing on the webhook path. Scrapes
  // collect gauges concurrently, so they share one read.
  let reading: Promise<StoreStats | undefined> | undefined
  const read = () => {
    reading ??= store
      .stats()
      .catch(() => undefined)
      .finally(() => setTimeout(() => (reading = undefined), 100).unref())
    return reading
  }
  const storeGauge = (name: string, help: string, value: (stats: StoreStats | undefined) => number) =>
    registry.gauge({
      name: `${PREFIX}${name}`,
      help,
      async collect(gauge) {
        gauge.set(value(await read()))
      },
    })
  storeGauge('pending_events', 'Events not yet delivered downstream', (s) => s?.pending ?? 0)
  storeGauge(
    'dead_letters',
    'Events that became dead letters (kept; replay with `events replay`)',
    (s) => s?.dead ?? 0,
  )
  storeGauge('oldest_pending_age_seconds', 'Age of the oldest undelivered event; 0 when none', (s) =>
    s?.oldestPendingAt == null ? 0 : Math.max(0, (Date.now() - s.oldestPendingAt) / 1000),
  )
  // Each forwarder's status, read at scrape time; `downstream` is its safe target (no credentials).
  const downstreams: (() => DownstreamStatus)[] = []
  const downstreamGauge = (name: string, help: string, value: (status: DownstreamStatus) => number) =>
    registry.gauge({
      name: `${PREFIX}${name}`,
      help,
      labelNames: ['downstream'],
      collect(gauge) {
        for (const read of downstreams) {
          const status = read()
          gauge.labels(status.target).set(value(status))
        }
      },
    })
  downstreamGauge(
    'forwarder_up',
    '1 while the forwarder to this downstream makes progress; 0 while the downstream or the store fails',
    (s) => (s.up ? 1 : 0),
  )
  downstreamGauge(
    'forwarder_last_progress_timestamp_seconds',
    'When the forwarder last delivered or dead-lettered an event, or found nothing pending; 0 before',
    (s) => (s.lastProgressAt === null ? 0 : s.lastProgressAt / 1000),
  )
  // The forwarding lease as this replica sees it (docs/postgres.md, "One forwarder at a time").
  let lease: ForwardingLease | undefined
  registry.gauge({
    name: `${PREFIX}forwarding_lease_held`,
    help: '1 while this replica holds the forwarding lease (always 1 on the embedded store)',
    collect: (gauge) => gauge.set(lease?.held === false ? 0 : 1),
  })
  registry.gauge({
    name: `${PREFIX}forwarding_lease_holder_silent_seconds`,
    help: 'How long the session holding the forwarding lease elsewhere has run no statement; 0 when this replica holds it',
    collect: (gauge) => gauge.set((lease?.holderSilentMs ?? 0) / 1000),
  })
  storeGauge('store_up', '1 when the store answered the last scrape', (s) => (s === undefined ? 0 : 1))
  return {
    ...metrics,
    quarantine: quarantineMetrics(registry),
    /** Reports a forwarder's status in `tylt_relay_forwarder_*{downstream}`. */
    addDownstream: (status: () => DownstreamStatus) => {
      downstreams.push(status)
    },
    addLease: (watched: ForwardingLease) => {
      lease = watched
    },
    /** Stops the event loop delay monitor behind `tylt_relay_nodejs_eventloop_lag_p99_seconds`. */
    close: stopProcessMetrics,
  }
}

/** The quarantine's metrics (docs/quarantine.md), as the observer the quarantine receiver calls. */
function quarantineMetrics(registry: Registry): QuarantineObserver {
  const quarantined = registry.counter({
    name: `${PREFIX}quarantined_total`,
    help: 'Refused webhook requests kept in quarantine, by service and reason: missing, malformed, mismatch, unknown_service',
    labelNames: ['service', 'reason'],
  })
  const dropped = registry.counter({
    name: `${PREFIX}quarantine_dropped_total`,
    help: 'Refused requests not kept (rate_limited, queue_full, too_large, write_failed) or no longer kept (expired, evicted, evicted_verified_source)',
    labelNames: ['cause'],
  })
  const requests = registry.gauge({
    name: `${PREFIX}quarantine_requests`,
    help: 'Requests in quarantine',
  })
  const bytes = registry.gauge({
    name: `${PREFIX}quarantine_bytes`,
    help: 'Bytes in quarantine, as counted against QUARANTINE_MAX_BYTES',
  })
  return {
    onQuarantined: (reason, service) => quarantined.labels(service, reason).inc(),
    onDropped: (cause, count) => dropped.labels(cause).inc(count),
    onStats: (stats) => {
      requests.set(stats.count)
      bytes.set(stats.bytes)
    },
  }
}

export type Metrics = ReturnType<typeof createMetrics>
