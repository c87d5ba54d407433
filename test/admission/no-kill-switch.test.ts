import { describe, expect, it } from 'vitest'
import { buildTestApp, SECRETS, sign } from '../helpers/index.js'
import { quarantineStore, receiver, recordingObserver } from '../quarantine/helpers.js'

const ATTACKERS = 250
const TYLT = '198.51.100.10'

const compact = (orderId: string) =>
  Buffer.from(JSON.stringify({ type: 'pay-in', data: { orderId, status: 'Completed' } }))
/** Pretty-printed: verifies only through the JSON fallback when signed over its compact form. */
const pretty = (bytes: Buffer) => Buffer.from(JSON.stringify(JSON.parse(bytes.toString()), null, 2))

describe('a flood of forgeries from 250 addresses is no kill switch', () => {
  it('a source whose callbacks verify keeps its JSON fallback and its quarantine', async () => {
    const store = quarantineStore()
    const { observer, dropped } = recordingObserver()
    // A quarantine whose bound on all sources together the flood exhausts at once.
    const quarantine = receiver({
      store,
      observer,
      limits: { burstBytes: 20_000, bytesPerSecond: 0, flushMs: 10 },
    })
    // Budgets each attacker empties within its first few forgeries.
    const { app, stored } = await buildTestApp({}, undefined, {
      quarantine,
      // Pressure is not what this is about: out of the way.
      admission: {
        budgetBytes: 2_000,
        refillBytesPerSecond: 0,
        maxEventLoopDelayMs: 1e9,
        maxEventLoopUtilization: 1.1,
      },
    })
    const send = (remoteAddress: string, payload: Buffer, signature: string, url = '/webhooks/cpg') =>
      app.inject({ method: 'POST', url, headers: { 'x-tlp-signature': signature }, payload, remoteAddress })

    // Tylt's address has sent a verified callback.
    expect((await send(TYLT, compact('first'), sign(SECRETS.cpg, compact('first')))).statusCode).toBe(200)
    const forgery = pretty(compact('forged'))
    for (let round = 0; round < 4; round++) {
      const flood = []
      for (let a = 0; a < ATTACKERS; a++)
        flood.push(send(`203.0.${a >> 8}.${a & 255}`, forgery, sign('forged', compact('forged'))))
      // Refused for their signature.
      const statuses = new Set((await Promise.all(flood)).map((r) => r.statusCode))
      expect([...statuses].filter((s) => s !== 401 && s !== 503)).toEqual([])
    }
    await quarantine.flush()
    // The flood exhausted the quarantine's bound on all sources: an unverified newcomer's refusal is not kept.
    const keptBefore = (await store.stats()).count
    expect(dropped.get('rate_limited')).toBeGreaterThan(0)
    expect((await send('192.0.2.200', forgery, sign('forged', compact('forged')))).statusCode).toBe(401)
    await quarantine.flush()
    expect((await store.stats()).count).toBe(keptBefore)

    // Tylt's callbacks that verify only through the fallback still get 200...
    for (let i = 0; i < 20; i++) {
      const genuine = compact(`fallback-${i}`)
      const res = await send(TYLT, pretty(genuine), sign(SECRETS.cpg, genuine))
      expect([res.statusCode, res.body]).toEqual([200, 'ok'])
    }
    expect(stored()).toHaveLength(21)
    // ...and its refused requests (a rotation mistake: a secret the relay does not have) are still kept.
    for (let i = 0; i < 5; i++) {
      const mistake = compact(`rotated-${i}`)
      expect((await send(TYLT, mistake, sign('the-new-secret-not-configured', mistake))).statusCode).toBe(401)
    }
    expect(
      (await send(TYLT, compact('early'), sign(SECRETS.cpg, compact('early')), '/webhooks/not-yet'))
        .statusCode,
    ).toBe(404)
    await quarantine.flush()
    const kept = (await store.list(1_000)).filter((q) => q.sourceAddress === TYLT)
    expect(kept.map((q) => q.reason).sort()).toEqual([...Array(5).fill('mismatch'), 'unknown_service'])
  })
})
