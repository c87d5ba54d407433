import { describe, expect, onTestFinished, test } from 'vitest'
import type { DownstreamStatus } from '../../src/core/sink.js'
import { createMetrics } from '../../src/ops/metrics.js'
import { buildOpsApp } from '../../src/ops/ops-app.js'
import { buildTestApp, sample } from '../helpers/index.js'

describe('readiness and metrics of the forwarders', () => {
  test('/readyz answers 503 "forwarder stalled" while a forwarder gives a reason, 200 again once it does not', async () => {
    const { logger, store, metrics } = await buildTestApp()
    let reason: string | undefined = 'the forwarder to http://consumer/ cannot use the store for 16 s'
    const ops = buildOpsApp({ logger, store, metrics, forwarders: [{ notReadyReason: () => reason }] })
    onTestFinished(() => ops.close())
    const first = await ops.inject({ method: 'GET', url: '/readyz' })
    expect([first.statusCode, first.body]).toEqual([503, 'forwarder stalled'])
    reason = undefined
    const second = await ops.inject({ method: 'GET', url: '/readyz' })
    expect([second.statusCode, second.body]).toEqual([200, 'ready'])
  })

  test('tylt_relay_forwarder_up and _last_progress_timestamp_seconds per downstream, read at scrape time', async () => {
    const { logger, store } = await buildTestApp()
    const statuses: DownstreamStatus[] = [
      {
        kind: 'redis',
        target: 'redis://app:***@127.0.0.1:6379?stream=prod',
        services: null,
        up: true,
        lastProgressAt: 1_700_000_000_500,
        lastError: null,
      },
      {
        kind: 'http',
        target: 'http://127.0.0.1:8080/staging',
        services: ['demo'],
        up: false,
        lastProgressAt: null,
        lastError: 'ECONNREFUSED: POST to downstream failed',
      },
    ]
    const metrics = createMetrics({ stats: () => store.stats(), downstreams: () => statuses })
    const ops = buildOpsApp({ logger, store, metrics })
    onTestFinished(() => ops.close())
    const scrape = async () => (await ops.inject({ method: 'GET', url: '/metrics' })).body
    let text = await scrape()
    const prod = { downstream: statuses[0]!.target }
    const staging = { downstream: statuses[1]!.target }
    expect(sample(text, 'tylt_relay_forwarder_up', prod)).toBe(1)
    expect(sample(text, 'tylt_relay_forwarder_up', staging)).toBe(0)
    expect(sample(text, 'tylt_relay_forwarder_last_progress_timestamp_seconds', prod)).toBe(1_700_000_000.5)
    expect(sample(text, 'tylt_relay_forwarder_last_progress_timestamp_seconds', staging)).toBe(0)
    statuses[1] = { ...statuses[1]!, up: true, lastProgressAt: 1_700_000_100_000 }
    text = await scrape()
    expect(sample(text, 'tylt_relay_forwarder_up', staging)).toBe(1)
  })
})
