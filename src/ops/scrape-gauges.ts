import { Gauge, type Registry } from 'prom-client'
import type { StoreStats } from '../core/event-store.js'
import type { DownstreamStatus } from '../core/sink.js'
import { METRICS_PREFIX } from './process-metrics.js'

/**
 * Store gauges are read at scrape time: one store query per scrape, nothing on the webhook path. Scrapes
 * collect gauges concurrently, so they share one read.
 */
export function storeGauges(registry: Registry, stats: () => Promise<StoreStats>): void {
  let reading: Promise<StoreStats | undefined> | undefined
  const read = () => {
    reading ??= stats()
      .catch(() => undefined)
      .finally(() => setTimeout(() => (reading = undefined), 100).unref())
    return reading
  }
  const gauge = (name: string, help: string, value: (stats: StoreStats | undefined) => number) =>
    new Gauge({
      name: METRICS_PREFIX + name,
      help,
      registers: [registry],
      async collect() {
        this.set(value(await read()))
      },
    })
  gauge('pending_events', 'Events not yet delivered downstream', (s) => s?.pending ?? 0)
  gauge(
    'dead_letters',
    'Events that became dead letters (kept; replay with `events replay`)',
    (s) => s?.dead ?? 0,
  )
  gauge('oldest_pending_age_seconds', 'Age of the oldest undelivered event; 0 when none', (s) =>
    s?.oldestPendingAt == null ? 0 : Math.max(0, (Date.now() - s.oldestPendingAt) / 1000),
  )
  gauge('store_up', '1 when the store answered the last scrape', (s) => (s === undefined ? 0 : 1))
}

/** Each forwarder's status, read at scrape time; `downstream` is its safe target (no credentials). */
export function downstreamGauges(registry: Registry, downstreams: () => readonly DownstreamStatus[]): void {
  const gauge = (name: string, help: string, value: (status: DownstreamStatus) => number) =>
    new Gauge({
      name: METRICS_PREFIX + name,
      help,
      labelNames: ['downstream'],
      registers: [registry],
      collect() {
        for (const status of downstreams()) this.set({ downstream: status.target }, value(status))
      },
    })
  gauge(
    'forwarder_up',
    '1 while the forwarder to this downstream makes progress; 0 while the downstream or the store fails',
    (s) => (s.up ? 1 : 0),
  )
  gauge(
    'forwarder_last_progress_timestamp_seconds',
    'When the forwarder last delivered or dead-lettered an event, or found nothing pending; 0 before',
    (s) => (s.lastProgressAt === null ? 0 : s.lastProgressAt / 1000),
  )
}
