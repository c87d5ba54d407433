import { describe, expect, test } from 'vitest'
import { SlotWatch } from '../../src/console/slot-watch.js'
import type { StoreStats } from '../../src/core/event-store.js'
import type { DownstreamStatus } from '../../src/core/sink.js'
import { createMetrics, type MetricsSources } from '../../src/ops/metrics.js'
import { sample } from '../helpers/index.js'

const STATS: StoreStats = { pending: 4, dead: 1, oldestPendingAt: null }

const build = (sources: Partial<MetricsSources> = {}) =>
  createMetrics({ stats: async () => STATS, ...sources })

const cpuSeconds = ({ user, system }: NodeJS.CpuUsage) => (user + system) / 1e6

/** The names a scrape declares (`# TYPE` lines). */
const declared = (text: string) => [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1])

describe('the observers write the documented series', () => {
  test('webhook: answers by service and outcome with their duration, refusals, signature failures, matches', async () => {
    const { webhook, registry } = build()
    webhook.onAnswered('cpg', 'accepted', 1.5)
    webhook.onAnswered('cpg', 'accepted', 30)
    webhook.onAnswered('unknown', 'unknown_service', 0.2)
    webhook.onRefused('unknown_service', false)
    webhook.onRefused('mismatch', true)
    webhook.onSignatureFailed('cpg', 'mismatch')
    webhook.onVerified('cpg', 'older', 'json_fallback')
    const text = await registry.metrics()
    expect(sample(text, 'tylt_relay_webhook_requests_total', { service: 'cpg', outcome: 'accepted' })).toBe(2)
    expect(sample(text, 'tylt_relay_ack_duration_seconds_bucket', { outcome: 'accepted', le: '0.002' })).toBe(
      1,
    )
    expect(sample(text, 'tylt_relay_ack_duration_seconds_bucket', { outcome: 'accepted', le: '0.05' })).toBe(
      2,
    )
    expect(sample(text, 'tylt_relay_ack_duration_seconds_sum', { outcome: 'accepted' })).toBeCloseTo(0.0315)
    expect(
      sample(text, 'tylt_relay_webhook_refusals_total', { reason: 'mismatch', over_limit: 'true' }),
    ).toBe(1)
    expect(
      sample(text, 'tylt_relay_webhook_refusals_total', { reason: 'unknown_service', over_limit: 'false' }),
    ).toBe(1)
    expect(
      sample(text, 'tylt_relay_verification_failures_total', { service: 'cpg', reason: 'mismatch' }),
    ).toBe(1)
    const match = { service: 'cpg', slot: 'older', bytes: 'json_fallback' }
    expect(sample(text, 'tylt_relay_secret_matches_total', match)).toBe(1)
    // Nothing else was counted.
    expect(sample(text, 'tylt_relay_secret_matches_total', { slot: 'current' })).toBeUndefined()
    expect(sample(text, 'tylt_relay_suspect_connections_refused_total')).toBeUndefined()
  })

  test('forwarder: each observer is bound to its own downstream', async () => {
    const { forwarder, registry } = build()
    const prod = forwarder({ kind: 'redis', target: 'redis://127.0.0.1:6379?stream=prod' })
    const staging = forwarder({ kind: 'http', target: 'http://127.0.0.1:8080/staging' })
    prod.onForwarded('delivered', 3)
    prod.onForwarded('delivered', 1)
    prod.onSent(0.003)
    staging.onForwarded('failed', 1)
    staging.onForwarded('dead', 0)
    const text = await registry.metrics()
    const at = (target: string, outcome: string) =>
      sample(text, 'tylt_relay_events_forwarded_total', { downstream: target, outcome })
    expect(at('redis://127.0.0.1:6379?stream=prod', 'delivered')).toBe(4)
    expect(at('http://127.0.0.1:8080/staging', 'delivered')).toBeUndefined()
    expect(at('http://127.0.0.1:8080/staging', 'failed')).toBe(1)
    // A count of zero still makes its series, so that rate() has a start.
    expect(at('http://127.0.0.1:8080/staging', 'dead')).toBe(0)
    expect(sample(text, 'tylt_relay_forward_duration_seconds_count', { sink: 'redis' })).toBe(1)
    expect(sample(text, 'tylt_relay_forward_duration_seconds_count', { sink: 'http' })).toBeUndefined()
  })

  test('store and quarantine: commit sizes, drops and what the quarantine holds', async () => {
    const { store, quarantine, registry } = build()
    store.onCommitted(5)
    quarantine.onQuarantined('mismatch', 'cpg')
    quarantine.onDropped('evicted', 2)
    quarantine.onStats({ count: 7, bytes: 9_000 })
    const text = await registry.metrics()
    expect(sample(text, 'tylt_relay_store_commit_batch_size_bucket', { le: '4' })).toBe(0)
    expect(sample(text, 'tylt_relay_store_commit_batch_size_bucket', { le: '8' })).toBe(1)
    expect(sample(text, 'tylt_relay_quarantined_total', { service: 'cpg', reason: 'mismatch' })).toBe(1)
    expect(sample(text, 'tylt_relay_quarantine_dropped_total', { cause: 'evicted' })).toBe(2)
    expect(sample(text, 'tylt_relay_quarantine_requests')).toBe(7)
    expect(sample(text, 'tylt_relay_quarantine_bytes')).toBe(9_000)
  })
  test('reconcile: requests by outcome, emitted states, abandoned orders and the last round', async () => {
    const { reconcile, registry } = build()
    reconcile.onRequest('cpg', 'ok')
    reconcile.onRequest('cpg', 'ok')
    reconcile.onRequest('prime-upi', 'rate-limited')
    reconcile.onEmitted('cpg', 'cpg-pay-in')
    reconcile.onAbandoned(3)
    reconcile.onRun(7, 1_765_000_000_000)
    const text = await registry.metrics()
    expect(sample(text, 'tylt_relay_reconcile_requests_total', { service: 'cpg', outcome: 'ok' })).toBe(2)
    const limited = { service: 'prime-upi', outcome: 'rate-limited' }
    expect(sample(text, 'tylt_relay_reconcile_requests_total', limited)).toBe(1)
    const emitted = { service: 'cpg', product: 'cpg-pay-in' }
    expect(sample(text, 'tylt_relay_reconcile_emitted_total', emitted)).toBe(1)
    expect(sample(text, 'tylt_relay_reconcile_abandoned_total')).toBe(3)
    expect(sample(text, 'tylt_relay_reconcile_due_orders')).toBe(7)
    expect(sample(text, 'tylt_relay_reconcile_last_run_timestamp_seconds')).toBe(1_765_000_000)
  })
})

describe('read at scrape time', () => {
  test('store gauges share one read per scrape; store_up is 0 when the store fails', async () => {
    let reads = 0
    let failing = false
    const { registry } = build({
      stats: async () => {
        reads++
        if (failing) throw new Error('closed')
        return { pending: 4, dead: 1, oldestPendingAt: Date.now() - 10_000 }
      },
    })
    const text = await registry.metrics()
    expect(reads).toBe(1)
    expect(sample(text, 'tylt_relay_pending_events')).toBe(4)
    expect(sample(text, 'tylt_relay_dead_letters')).toBe(1)
    expect(sample(text, 'tylt_relay_oldest_pending_age_seconds')).toBeGreaterThanOrEqual(10)
    expect(sample(text, 'tylt_relay_store_up')).toBe(1)
    failing = true
    await new Promise((resolve) => setTimeout(resolve, 150))
    const failed = await registry.metrics()
    expect(sample(failed, 'tylt_relay_store_up')).toBe(0)
    expect(sample(failed, 'tylt_relay_pending_events')).toBe(0)
  })

  test('forwarder gauges follow each status as it is at the scrape', async () => {
    const status: DownstreamStatus = {
      kind: 'http',
      target: 'http://127.0.0.1:8080/events',
      services: null,
      up: false,
      lastProgressAt: null,
      lastError: 'ECONNREFUSED',
    }
    let current = status
    const { registry } = build({ downstreams: () => [current] })
    const labels = { downstream: status.target }
    expect(sample(await registry.metrics(), 'tylt_relay_forwarder_up', labels)).toBe(0)
    current = { ...status, up: true, lastProgressAt: 1_700_000_000_500 }
    const text = await registry.metrics()
    expect(sample(text, 'tylt_relay_forwarder_up', labels)).toBe(1)
    expect(sample(text, 'tylt_relay_forwarder_last_progress_timestamp_seconds', labels)).toBe(1_700_000_000.5)
  })
})

describe('several relays in one process', () => {
  test('count apart, and report the one process the same way', async () => {
    const [a, b] = [build(), build()]
    a.webhook.onAnswered('cpg', 'accepted', 1)
    const [textA, textB] = [await a.registry.metrics(), await b.registry.metrics()]
    expect(sample(textA, 'tylt_relay_webhook_requests_total', { outcome: 'accepted' })).toBe(1)
    expect(sample(textB, 'tylt_relay_webhook_requests_total', { outcome: 'accepted' })).toBeUndefined()
    expect(declared(textA)).toEqual(declared(textB))
  })
})

describe('the process metrics', () => {
  test('the documented process names are there with sensible values, the prefix on every sample', async () => {
    const { registry } = build()
    // Block the event loop once the monitor has sampled, so that it has a delay to report, until this
    // process has spent 60 ms of CPU (on a busy machine that takes longer than 60 ms).
    await registry.metrics()
    await new Promise((resolve) => setTimeout(resolve, 50))
    const before = process.cpuUsage()
    while (cpuSeconds(process.cpuUsage(before)) < 0.06) {
      // busy
    }
    await new Promise((resolve) => setTimeout(resolve, 30))
    const text = await registry.metrics()
    for (const line of text.split('\n').filter((l) => l !== '' && !l.startsWith('#'))) {
      expect(line).toMatch(/^tylt_relay_/)
    }
    expect(text).toContain('# TYPE tylt_relay_process_cpu_seconds_total counter\n')
    expect(sample(text, 'tylt_relay_process_cpu_seconds_total')).toBeGreaterThan(0)
    expect(sample(text, 'tylt_relay_process_resident_memory_bytes')).toBeGreaterThan(10 * 2 ** 20)
    const start = sample(text, 'tylt_relay_process_start_time_seconds') ?? 0
    expect(start).toBeLessThanOrEqual(Date.now() / 1000)
    expect(start).toBeGreaterThan(Date.now() / 1000 - process.uptime() - 5)
    expect(sample(text, 'tylt_relay_nodejs_heap_size_used_bytes')).toBeGreaterThan(2 ** 20)
    const lag = sample(text, 'tylt_relay_nodejs_eventloop_lag_p99_seconds') ?? -1
    expect(lag).toBeGreaterThan(0.05)
    expect(lag).toBeLessThan(5)
  })

  test('no gauge named _total, and nothing read through undocumented Node functions', async () => {
    const text = await build().registry.metrics()
    const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => ({ name: m[1]!, type: m[2] }))
    expect(types.filter((t) => t.name.endsWith('_total') && t.type !== 'counter')).toEqual([])
    expect(types.map((t) => t.name).filter((n) => /active_(handles|requests)/.test(n))).toEqual([])
    expect(types.map((t) => t.name)).toContain('tylt_relay_nodejs_active_resources')
  })
})

test('the console reads which secret matched from the counter the webhook observer bumps', async () => {
  const { webhook, registry } = build()
  let now = 1_000
  const watch = new SlotWatch(registry, () => now)
  expect(await watch.sample()).toEqual([])
  webhook.onVerified('cpg', 'current', 'raw')
  webhook.onVerified('cpg', 'current', 'json_fallback')
  webhook.onVerified('cpg', 'older', 'raw')
  expect(await watch.sample()).toEqual([
    { service: 'cpg', slot: 'current', matches: 2, lastSeenAt: 1_000 },
    { service: 'cpg', slot: 'older', matches: 1, lastSeenAt: 1_000 },
  ])
  now = 2_000
  webhook.onVerified('cpg', 'current', 'raw')
  expect(await watch.sample()).toEqual([
    { service: 'cpg', slot: 'current', matches: 3, lastSeenAt: 2_000 },
    { service: 'cpg', slot: 'older', matches: 1, lastSeenAt: 1_000 },
  ])
})
