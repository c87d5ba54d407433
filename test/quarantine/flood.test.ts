import { statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { QUARANTINE, QUARANTINE_FILE } from '../../src/constants.js'
import { requestBytes } from '../../src/core/quarantine-store.js'
import { buildTestApp, eventually, postWebhook, SECRETS, sample, sign, tempDir } from '../helper.js'
import { listEvents, post, runCli, startRelay } from '../process/relay-process.js'
import { quarantineStore, receiver, recordingObserver, refusedRequest } from './helpers.js'

const FORGED = 100_000
const GENUINE = 100

describe('a flood of forgeries from one address', () => {
  it('keeps the quarantine within its bytes while every genuine callback is answered ok', async () => {
    const store = quarantineStore()
    const { observer, quarantined, dropped } = recordingObserver()
    const forged = refusedRequest({ sourceAddress: '192.0.2.66', body: Buffer.alloc(600, 0x7b) })
    const maxBytes = 100 * requestBytes(forged, QUARANTINE.overheadBytes)
    const quarantine = receiver({ store, observer, maxBytes })
    const { app, stored } = await buildTestApp({}, undefined, { quarantine })
    const answers: string[] = []
    let peak = 0
    for (let i = 0; i < FORGED; i++) {
      quarantine.refused({ ...forged, receivedAt: Date.now() })
      if (i % (FORGED / GENUINE) === 0) {
        const body = JSON.stringify({ data: { orderId: `genuine-${i}`, status: 'paid' } })
        const res = await postWebhook(app, '/webhooks/cpg', body, sign(SECRETS.cpg, body))
        answers.push(`${res.statusCode} ${res.body}`)
        peak = Math.max(peak, (await store.stats()).bytes)
      }
    }
    await quarantine.flush()
    expect(answers).toEqual(Array(GENUINE).fill('200 ok'))
    expect(stored().map((e) => e.merchantOrderId ?? JSON.parse(e.body.toString()).data.orderId)).toHaveLength(
      GENUINE,
    )
    expect(stored().every((e) => e.body.toString().includes('genuine-'))).toBe(true)
    const stats = await store.stats()
    expect(Math.max(peak, stats.bytes)).toBeLessThanOrEqual(maxBytes)
    // Nearly all were refused by the address's rate limit; what passed it filled the quarantine, oldest out.
    expect(dropped.get('rate_limited')).toBeGreaterThan(FORGED - 10 * QUARANTINE.perAddress)
    expect(quarantined.length + (dropped.get('rate_limited') ?? 0)).toBeLessThanOrEqual(FORGED)
    expect(dropped.get('evicted')).toBeGreaterThan(0)
    expect(stats.count).toBe(100)
  })

  it('over real HTTP: a relay keeps answering genuine callbacks ok and its quarantine within bounds', async () => {
    const MAX = 65_536
    const dataDir = tempDir()
    const env = {
      TYLT_SECRET_CPG: SECRETS.cpg,
      DATA_DIR: dataDir,
      QUARANTINE_MAX_BYTES: String(MAX),
      LOG_LEVEL: 'warn',
    }
    const relay = await startRelay(env)
    const url = `${relay.url}/webhooks/cpg`
    const forgedAnswers = new Map<number, number>()
    const genuineAnswers: string[] = []
    let next = 0
    const worker = async () => {
      for (let i = next++; i < 3_000; i = next++) {
        if (i % 50 === 0) {
          const body = JSON.stringify({ data: { orderId: `genuine-${i}`, status: 'paid' } })
          const res = await post(url, body, sign(SECRETS.cpg, body))
          genuineAnswers.push(`${res.status} ${res.body}`)
        } else {
          const body = `{"forged":${i},"pad":"${'x'.repeat(500)}"}`
          const res = await post(url, body, sign('not-the-secret', body))
          forgedAnswers.set(res.status, (forgedAnswers.get(res.status) ?? 0) + 1)
        }
      }
    }
    await Promise.all(Array.from({ length: 25 }, worker))
    expect(genuineAnswers).toEqual(Array(60).fill('200 ok'))
    expect([...forgedAnswers]).toEqual([[401, 2_940]])
    const metrics = await eventually(
      () => relay.metrics(),
      (m) => (sample(m, 'tylt_relay_quarantine_requests') ?? 0) > 0,
    )
    expect(sample(metrics, 'tylt_relay_quarantine_bytes')).toBeLessThanOrEqual(MAX)
    expect(sample(metrics, 'tylt_relay_quarantine_dropped_total', { cause: 'rate_limited' })).toBeGreaterThan(
      0,
    )
    expect(sample(metrics, 'tylt_relay_quarantine_dropped_total', { cause: 'evicted' })).toBeGreaterThan(0)
    expect(await relay.stop()).toBe(0)
    const events = await listEvents(env)
    expect(events).toHaveLength(60)
    expect(events.every((e) => e.orderId?.startsWith('genuine-') && e.service === 'cpg')).toBe(true)
    const listed = JSON.parse(
      (await runCli(['quarantine', 'list', '--json', '--limit', '100000'], env)).stdout,
    ) as unknown[]
    expect(listed.length).toBeGreaterThan(0)
    expect(listed.length * 500).toBeLessThanOrEqual(MAX)
    // The file itself: the bytes kept, plus SQLite's pages and indexes, never the flood.
    expect(statSync(join(dataDir, QUARANTINE_FILE)).size).toBeLessThan(4 * MAX)
  })
})
