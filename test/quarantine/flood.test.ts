import { describe, expect, it } from 'vitest'
import { QUARANTINE } from '../../src/constants.js'
import { requestBytes } from '../../src/core/quarantine-store.js'
import { buildTestApp, postWebhook, SECRETS, sign } from '../helper.js'
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
})
