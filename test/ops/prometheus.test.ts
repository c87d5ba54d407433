import { describe, expect, test } from 'vitest'
import { SlotWatch } from '../../src/console/slot-watch.js'
import { createMetrics } from '../../src/ops/metrics.js'
import { eventLoopMonitorRunning, registerProcessMetrics } from '../../src/ops/process-metrics.js'
import { CONTENT_TYPE, Counter, Gauge, Histogram, Registry } from '../../src/ops/prometheus.js'
import { sample } from '../helpers/index.js'

describe('text exposition format', () => {
  test('a counter with two label sets, in the order they were first used', async () => {
    const registry = new Registry()
    const requests = registry.counter({
      name: 'relay_requests_total',
      help: 'Requests by service and outcome',
      labelNames: ['service', 'outcome'],
    })
    requests.labels('cpg', 'accepted').inc()
    requests.labels('upi', 'duplicate').inc(2)
    requests.labels('cpg', 'accepted').inc(0.5)
    expect(await registry.metrics()).toBe(
      [
        '# HELP relay_requests_total Requests by service and outcome',
        '# TYPE relay_requests_total counter',
        'relay_requests_total{service="cpg",outcome="accepted"} 1.5',
        'relay_requests_total{service="upi",outcome="duplicate"} 2',
        '',
      ].join('\n'),
    )
  })

  test('a metric without labels is written as 0 before its first use; one with labels has no sample', async () => {
    const registry = new Registry()
    registry.counter({ name: 'plain_total', help: 'Plain' })
    registry.counter({ name: 'labelled_total', help: 'Labelled', labelNames: ['a'] })
    expect(await registry.metrics()).toBe(
      [
        '# HELP plain_total Plain',
        '# TYPE plain_total counter',
        'plain_total 0',
        '# HELP labelled_total Labelled',
        '# TYPE labelled_total counter',
        '',
      ].join('\n'),
    )
  })

  test('a gauge set by its collect hook at each scrape', async () => {
    const registry = new Registry()
    let depth = 3
    registry.gauge({
      name: 'queue_depth',
      help: 'Items waiting',
      labelNames: ['queue'],
      collect: (gauge) => {
        gauge.labels('in').set(depth)
        gauge.labels('out').set(-depth)
      },
    })
    const text = (value: number) =>
      [
        '# HELP queue_depth Items waiting',
        '# TYPE queue_depth gauge',
        `queue_depth{queue="in"} ${value}`,
        `queue_depth{queue="out"} ${-value}`,
        '',
      ].join('\n')
    expect(await registry.metrics()).toBe(text(3))
    depth = 7
    expect(await registry.metrics()).toBe(text(7))
  })

  test('gauge set, inc and dec; infinities and NaN as Prometheus spells them', async () => {
    const registry = new Registry()
    const gauge = registry.gauge({ name: 'g', help: 'G', labelNames: ['k'] })
    gauge.labels('a').set(10)
    gauge.labels('a').inc(5)
    gauge.labels('a').dec()
    gauge.labels('b').set(Number.POSITIVE_INFINITY)
    gauge.labels('c').set(Number.NEGATIVE_INFINITY)
    gauge.labels('d').set(Number.NaN)
    const plain = registry.gauge({ name: 'p', help: 'P' })
    plain.inc(2)
    plain.dec(0.5)
    expect((await registry.metrics()).split('\n').filter((l) => !l.startsWith('#'))).toEqual([
      'g{k="a"} 14',
      'g{k="b"} +Inf',
      'g{k="c"} -Inf',
      'g{k="d"} NaN',
      'p 1.5',
      '',
    ])
  })

  test('a histogram: cumulative buckets up to +Inf, then _sum and _count', async () => {
    const registry = new Registry()
    const duration = registry.histogram({
      name: 'ack_seconds',
      help: 'Time to answer',
      labelNames: ['outcome'],
      buckets: [0.001, 0.01, 0.1],
    })
    const accepted = duration.labels('accepted')
    for (const seconds of [0.0005, 0.001, 0.005, 0.05, 2]) accepted.observe(seconds)
    duration.labels('error').observe(0.02)
    expect(await registry.metrics()).toBe(
      [
        '# HELP ack_seconds Time to answer',
        '# TYPE ack_seconds histogram',
        'ack_seconds_bucket{outcome="accepted",le="0.001"} 2',
        'ack_seconds_bucket{outcome="accepted",le="0.01"} 3',
        'ack_seconds_bucket{outcome="accepted",le="0.1"} 4',
        'ack_seconds_bucket{outcome="accepted",le="+Inf"} 5',
        'ack_seconds_sum{outcome="accepted"} 2.0565',
        'ack_seconds_count{outcome="accepted"} 5',
        'ack_seconds_bucket{outcome="error",le="0.001"} 0',
        'ack_seconds_bucket{outcome="error",le="0.01"} 0',
        'ack_seconds_bucket{outcome="error",le="0.1"} 1',
        'ack_seconds_bucket{outcome="error",le="+Inf"} 1',
        'ack_seconds_sum{outcome="error"} 0.02',
        'ack_seconds_count{outcome="error"} 1',
        '',
      ].join('\n'),
    )
  })

  test('a histogram without labels is written from the start', async () => {
    const registry = new Registry()
    const batch = registry.histogram({ name: 'batch_size', help: 'Batch', buckets: [1, 4, Infinity] })
    expect(await registry.metrics()).toBe(
      [
        '# HELP batch_size Batch',
        '# TYPE batch_size histogram',
        'batch_size_bucket{le="1"} 0',
        'batch_size_bucket{le="4"} 0',
        'batch_size_bucket{le="+Inf"} 0',
        'batch_size_sum 0',
        'batch_size_count 0',
        '',
      ].join('\n'),
    )
    batch.observe(3)
    batch.observe(9)
    expect((await registry.metrics()).split('\n').slice(2, 7)).toEqual([
      'batch_size_bucket{le="1"} 0',
      'batch_size_bucket{le="4"} 1',
      'batch_size_bucket{le="+Inf"} 2',
      'batch_size_sum 12',
      'batch_size_count 2',
    ])
  })

  test('label values escape backslash, double quote and newline; HELP escapes backslash and newline', async () => {
    const registry = new Registry()
    const counter = registry.counter({
      name: 'escaped_total',
      help: 'A "quoted" help\\text\nsecond line',
      labelNames: ['path'],
    })
    counter.labels('C:\\dir\\"name"\nnext').inc()
    expect(await registry.metrics()).toBe(
      [
        '# HELP escaped_total A "quoted" help\\\\text\\nsecond line',
        '# TYPE escaped_total counter',
        'escaped_total{path="C:\\\\dir\\\\\\"name\\"\\nnext"} 1',
        '',
      ].join('\n'),
    )
    // What a scrape reports is what was counted, unescaped.
    expect((await counter.get()).values).toEqual([{ labels: { path: 'C:\\dir\\"name"\nnext' }, value: 1 }])
  })

  test('the content type is the text format 0.0.4', () => {
    expect(new Registry().contentType).toBe('text/plain; version=0.0.4; charset=utf-8')
    expect(CONTENT_TYPE).toBe(new Registry().contentType)
  })
})

describe('counters, gauges and histograms', () => {
  test('a counter never decreases', async () => {
    const registry = new Registry()
    const counter = registry.counter({ name: 'c_total', help: 'C', labelNames: ['a'] })
    const child = counter.labels('x')
    child.inc(2)
    expect(() => child.inc(-1)).toThrow(RangeError)
    expect(() => child.inc(Number.NaN)).toThrow(RangeError)
    expect(() => registry.counter({ name: 'plain_total', help: 'P' }).inc(-0.5)).toThrow(RangeError)
    expect(sample(await registry.metrics(), 'c_total', { a: 'x' })).toBe(2)
  })

  test('labels() returns the same child for the same values, positionally or by name', () => {
    const counter = new Counter({ name: 'c_total', help: 'C', labelNames: ['service', 'outcome'] })
    const accepted = counter.labels('cpg', 'accepted')
    expect(counter.labels('cpg', 'accepted')).toBe(accepted)
    expect(counter.labels({ outcome: 'accepted', service: 'cpg' })).toBe(accepted)
    expect(counter.labels('cpg', 'duplicate')).not.toBe(accepted)
    expect(counter.labels('accepted', 'cpg')).not.toBe(accepted)
    const histogram = new Histogram({ name: 'h', help: 'H', labelNames: ['outcome'], buckets: [1] })
    expect(histogram.labels('x')).toBe(histogram.labels('x'))
  })

  test('a held child and labels() count into one sample', async () => {
    const registry = new Registry()
    const counter = registry.counter({ name: 'c_total', help: 'C', labelNames: ['a', 'b'] })
    const held = counter.labels('a', 'b')
    held.inc()
    counter.labels('a', 'b').inc()
    counter.labels({ a: 'a', b: 'b' }).inc()
    expect(sample(await registry.metrics(), 'c_total')).toBe(3)
    expect((await counter.get()).values).toEqual([{ labels: { a: 'a', b: 'b' }, value: 3 }])
  })

  test('wrong label values are refused', () => {
    const counter = new Counter({ name: 'c_total', help: 'C', labelNames: ['a', 'b'] })
    const labels = counter.labels as (...values: unknown[]) => unknown
    expect(() => labels.call(counter, 'only-one')).toThrow(/takes 2 label values/)
    expect(() => labels.call(counter, 'a', 'b', 'c')).toThrow(/takes 2 label values/)
    expect(() => labels.call(counter, 'a', 1)).toThrow(/label values are strings/)
    expect(() => labels.call(counter, { a: 'x' })).toThrow(/label b missing/)
    expect(() => labels.call(counter, { a: 'x', b: 'y', c: 'z' })).toThrow(/has no label c/)
    // A metric with labels has no unlabelled child.
    expect(() => (counter as unknown as Counter).inc()).toThrow(/has labels/)
  })

  test('metric and label names are checked when the metric is made', () => {
    expect(() => new Counter({ name: 'bad-name', help: 'x' })).toThrow(/invalid metric name/)
    expect(() => new Counter({ name: '1st', help: 'x' })).toThrow(/invalid metric name/)
    expect(() => new Counter({ name: 'ns:ok_total', help: 'x' })).not.toThrow()
    expect(() => new Counter({ name: 'c', help: 'x', labelNames: ['bad-label'] })).toThrow(/invalid label/)
    expect(() => new Counter({ name: 'c', help: 'x', labelNames: ['__reserved'] })).toThrow(/invalid label/)
    expect(() => new Counter({ name: 'c', help: 'x', labelNames: ['a', 'a'] })).toThrow(/duplicate label/)
    expect(() => new Gauge({ name: 'g', help: 'x', labelNames: ['le'] })).not.toThrow()
    expect(() => new Histogram({ name: 'h', help: 'x', labelNames: ['le'], buckets: [1] })).toThrow(
      /invalid label/,
    )
    expect(() => new Histogram({ name: 'h', help: 'x', buckets: [1, 1] })).toThrow(/increasing/)
    expect(() => new Histogram({ name: 'h', help: 'x', buckets: [2, 1] })).toThrow(/increasing/)
    expect(() => new Histogram({ name: 'h', help: 'x', buckets: [Number.NaN] })).toThrow(/increasing/)
  })

  test('a registry refuses a second metric of the same name', () => {
    const registry = new Registry()
    registry.counter({ name: 'c_total', help: 'C' })
    expect(() => registry.gauge({ name: 'c_total', help: 'again' })).toThrow(/already registered/)
  })

  test('a histogram timer observes the seconds since it started', async () => {
    const histogram = new Histogram({ name: 'h', help: 'H', labelNames: ['a'], buckets: [0.001, 10] })
    const stop = histogram.labels('x').startTimer()
    await new Promise((resolve) => setTimeout(resolve, 20))
    const seconds = stop()
    expect(seconds).toBeGreaterThanOrEqual(0.015)
    expect(seconds).toBeLessThan(10)
    const values = (await histogram.get()).values
    expect(values.map((v) => [v.metricName, v.labels.le, v.value])).toEqual([
      ['h_bucket', '0.001', 0],
      ['h_bucket', '10', 1],
      ['h_bucket', '+Inf', 1],
      ['h_sum', undefined, seconds],
      ['h_count', undefined, 1],
    ])
    expect(() => histogram.labels('x').observe(Number.NaN)).toThrow(RangeError)
  })
})

describe('collect hooks', () => {
  test('an async collect is awaited before the scrape is written', async () => {
    const registry = new Registry()
    let calls = 0
    registry.gauge({
      name: 'slow',
      help: 'Read late',
      async collect(gauge) {
        calls++
        await new Promise((resolve) => setTimeout(resolve, 30))
        gauge.set(42)
      },
    })
    expect(sample(await registry.metrics(), 'slow')).toBe(42)
    expect(calls).toBe(1)
  })

  test('collect hooks run concurrently, and a failing one fails the scrape', async () => {
    const registry = new Registry()
    const started: string[] = []
    let release = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    for (const name of ['first', 'second']) {
      registry.gauge({
        name,
        help: name,
        async collect(gauge) {
          started.push(name)
          await gate
          gauge.set(1)
        },
      })
    }
    const scrape = registry.metrics()
    await new Promise((resolve) => setImmediate(resolve))
    expect(started).toEqual(['first', 'second'])
    release()
    expect(sample(await scrape, 'second')).toBe(1)

    registry.gauge({
      name: 'broken',
      help: 'Throws',
      collect: async () => {
        throw new Error('store gone')
      },
    })
    await expect(registry.metrics()).rejects.toThrow('store gone')
  })

  test('get() runs the collect hook too', async () => {
    const registry = new Registry()
    registry.gauge({ name: 'g', help: 'G', labelNames: ['k'], collect: (g) => g.labels('v').set(5) })
    const metric = registry.getSingleMetric('g')
    expect(metric?.type).toBe('gauge')
    expect((await metric?.get())?.values).toEqual([{ labels: { k: 'v' }, value: 5 }])
    expect(registry.getSingleMetric('absent')).toBeUndefined()
  })
})

describe('process metrics', () => {
  test('CPU time, resident memory, start time, heap and event loop delay, read at scrape time', async () => {
    const registry = new Registry()
    const stop = registerProcessMetrics(registry, 'p_')
    try {
      // Block the event loop once the monitor has started sampling, so that it has a delay to report.
      await new Promise((resolve) => setTimeout(resolve, 50))
      const until = Date.now() + 60
      while (Date.now() < until) {
        /* busy */
      }
      await new Promise((resolve) => setTimeout(resolve, 60))
      const text = await registry.metrics()
      expect(text).toContain('# TYPE p_process_cpu_seconds_total counter\n')
      for (const name of [
        'process_resident_memory_bytes',
        'process_start_time_seconds',
        'nodejs_heap_size_used_bytes',
        'nodejs_eventloop_lag_p99_seconds',
      ]) {
        expect(text).toContain(`# TYPE p_${name} gauge\n`)
      }
      const cpu = sample(text, 'p_process_cpu_seconds_total') ?? 0
      expect(cpu).toBeGreaterThan(0.05)
      const rss = sample(text, 'p_process_resident_memory_bytes') ?? 0
      expect(rss).toBeGreaterThan(10 * 2 ** 20)
      const start = sample(text, 'p_process_start_time_seconds') ?? 0
      expect(start).toBeLessThanOrEqual(Date.now() / 1000)
      expect(start).toBeGreaterThan(Date.now() / 1000 - process.uptime() - 5)
      expect(sample(text, 'p_nodejs_heap_size_used_bytes')).toBeGreaterThan(2 ** 20)
      const lag = sample(text, 'p_nodejs_eventloop_lag_p99_seconds') ?? -1
      expect(lag).toBeGreaterThan(0.02)
      expect(lag).toBeLessThan(5)
      // The counter only grows between scrapes.
      expect(sample(await registry.metrics(), 'p_process_cpu_seconds_total')).toBeGreaterThanOrEqual(cpu)
    } finally {
      stop()
    }
  })

  test('one event loop monitor for every registry, stopped once the last lets go', () => {
    const wasRunning = eventLoopMonitorRunning()
    const stops = Array.from({ length: 3 }, (_, i) => registerProcessMetrics(new Registry(), `r${i}_`))
    expect(eventLoopMonitorRunning()).toBe(true)
    stops[0]!()
    stops[0]!()
    stops[1]!()
    expect(eventLoopMonitorRunning()).toBe(true)
    stops[2]!()
    expect(eventLoopMonitorRunning()).toBe(wasRunning)
  })
})

describe('the relay metrics on this registry', () => {
  const stats = { pending: 4, dead: 1, oldestPendingAt: null }
  const store = { stats: async () => stats } as unknown as Parameters<typeof createMetrics>[0]

  test('every sample carries the prefix; object labels and positional labels share their child', async () => {
    const metrics = createMetrics(store)
    try {
      metrics.forwarded.labels({ sink: 'http', downstream: 'https://app', outcome: 'delivered' }).inc(3)
      metrics.forwarded.labels('http', 'https://app', 'delivered').inc()
      metrics.commitBatch.observe(5)
      metrics.quarantine.onDropped('evicted', 2)
      const text = await metrics.registry.metrics()
      for (const line of text.split('\n').filter((l) => l !== '' && !l.startsWith('#'))) {
        expect(line).toMatch(/^tylt_relay_/)
      }
      expect(sample(text, 'tylt_relay_events_forwarded_total', { outcome: 'delivered' })).toBe(4)
      expect(sample(text, 'tylt_relay_store_commit_batch_size_bucket', { le: '4' })).toBe(0)
      expect(sample(text, 'tylt_relay_store_commit_batch_size_bucket', { le: '8' })).toBe(1)
      expect(sample(text, 'tylt_relay_pending_events')).toBe(4)
      expect(sample(text, 'tylt_relay_dead_letters')).toBe(1)
      expect(sample(text, 'tylt_relay_quarantine_dropped_total', { cause: 'evicted' })).toBe(2)
      expect(text).toContain('# TYPE tylt_relay_nodejs_eventloop_lag_p99_seconds gauge\n')
    } finally {
      metrics.close()
    }
  })

  test('the console reads which secret matched from the counter', async () => {
    const metrics = createMetrics(store)
    try {
      let now = 1_000
      const watch = new SlotWatch(metrics.registry, () => now)
      expect(await watch.sample()).toEqual([])
      metrics.secretMatches.labels('cpg', 'current', 'raw').inc()
      metrics.secretMatches.labels('cpg', 'current', 'json_fallback').inc()
      metrics.secretMatches.labels('cpg', 'older', 'raw').inc()
      expect(await watch.sample()).toEqual([
        { service: 'cpg', slot: 'current', matches: 2, lastSeenAt: 1_000 },
        { service: 'cpg', slot: 'older', matches: 1, lastSeenAt: 1_000 },
      ])
      now = 2_000
      metrics.secretMatches.labels('cpg', 'current', 'raw').inc()
      expect(await watch.sample()).toEqual([
        { service: 'cpg', slot: 'current', matches: 3, lastSeenAt: 2_000 },
        { service: 'cpg', slot: 'older', matches: 1, lastSeenAt: 1_000 },
      ])
    } finally {
      metrics.close()
    }
  })
})
