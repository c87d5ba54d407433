import { describe, expect, it } from 'vitest'
import type { RefusedRequest } from '../../src/core/quarantine-store.js'
import { buildTestApp, SECRETS, sign } from '../helpers/index.js'

const PROXY = '10.0.0.5'
const TYLT = '198.51.100.10'
const ATTACKER = '203.0.113.66'

const compact = (orderId: string) =>
  Buffer.from(JSON.stringify({ type: 'pay-in', data: { orderId, status: 'Completed' } }))
const pretty = (bytes: Buffer) => Buffer.from(JSON.stringify(JSON.parse(bytes.toString()), null, 2))

describe.each([
  ['a hop count', '1'],
  ['the proxy’s CIDR', '10.0.0.0/8'],
])('behind one proxy, TRUST_PROXY as %s', (_name, trustProxy) => {
  it('an attacker writing Tylt’s address into X-Forwarded-For is charged under its own; Tylt’s callbacks are unaffected', async () => {
    const seen: RefusedRequest[] = []
    const { app, stored } = await buildTestApp({ TRUST_PROXY: trustProxy }, undefined, {
      quarantine: { refused: (r) => void seen.push(r) },
      // Pressure is not the subject here: a busy machine must not turn a 401 into a 503.
      admission: { budgetBytes: 500, refillBytesPerSecond: 0, maxEventLoopUtilization: 1 },
    })
    // Every request reaches the relay from the proxy, which appends the address it saw to what the client sent.
    const send = (forwardedFor: string, payload: Buffer, signature: string) =>
      app.inject({
        method: 'POST',
        url: '/webhooks/cpg',
        headers: { 'x-tlp-signature': signature, 'x-forwarded-for': forwardedFor },
        payload,
        remoteAddress: PROXY,
      })
    const forgery = pretty(compact('forged'))
    for (let i = 0; i < 40; i++) {
      for (const spoofed of [TYLT, PROXY, `${TYLT}, ${PROXY}`]) {
        const res = await send(`${spoofed}, ${ATTACKER}`, forgery, sign('forged', compact('forged')))
        expect(res.statusCode).toBe(401)
      }
    }
    // Its budget is spent: its refusals are no longer quarantined...
    expect(seen.length).toBeLessThan(10)
    expect(new Set(seen.map((r) => r.sourceAddress))).toEqual(new Set([ATTACKER]))
    // ...while Tylt keeps everything, the JSON fallback included.
    for (let i = 0; i < 10; i++) {
      const genuine = compact(`tylt-${i}`)
      const payload = i % 2 === 0 ? genuine : pretty(genuine)
      const res = await send(TYLT, payload, sign(SECRETS.cpg, genuine))
      expect([res.statusCode, res.body]).toEqual([200, 'ok'])
    }
    expect(stored()).toHaveLength(10)
    const mistake = compact('rotated')
    expect((await send(TYLT, mistake, sign('a-secret-not-configured', mistake))).statusCode).toBe(401)
    expect(seen.at(-1)).toMatchObject({ sourceAddress: TYLT, fromVerifiedSource: true })
  })
})
