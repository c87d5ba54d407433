import { describe, expect, it } from 'vitest'
import { DEFAULTS } from '../../src/constants.js'
import { buildTestApp, SECRETS, sample, sign } from '../helpers/index.js'
import { freePort } from '../helpers/ports.js'
import { exchange, post } from './raw-http.js'

/** A genuine callback of exactly `bytes` bytes. */
function callback(orderId: string, bytes: number): Buffer {
  const head = `{"type":"pay-in","data":{"orderId":"${orderId}","status":"Completed","pad":"`
  return Buffer.from(`${head}${'x'.repeat(bytes - head.length - 3)}"}}`)
}

describe('callbacks as large as BODY_LIMIT allows', () => {
  it('eight at once from one address, round after round, are all accepted: never 503 from admission', async () => {
    expect(DEFAULTS.BODY_LIMIT).toBe(262_144)
    const { app, stored } = await buildTestApp()
    const port = await freePort()
    await app.listen({ port, host: '127.0.0.1' })
    const answers = []
    for (let round = 0; round < 5; round++) {
      const batch = Array.from({ length: 8 }, (_, i) => {
        const body = callback(`large-${round}-${i}`, 250_000)
        return exchange(port, post('/webhooks/cpg', body, sign(SECRETS.cpg, body)))
      })
      answers.push(...(await Promise.all(batch)))
    }
    expect(answers.map((a) => [a.statuses, a.bodies, a.error])).toEqual(
      Array(40).fill([[200], ['ok'], undefined]),
    )
    expect(stored().map((e) => e.body.length)).toEqual(Array(40).fill(250_000))
  })

  it('from a source whose callbacks verify, even once a flood behind its address has spent its budget', async () => {
    const { app, stored, metrics } = await buildTestApp({}, undefined, {
      admission: { budgetBytes: 100_000, refillBytesPerSecond: 0 },
    })
    const port = await freePort()
    await app.listen({ port, host: '127.0.0.1' })
    const first = callback('first', 1_000)
    expect((await exchange(port, post('/webhooks/cpg', first, sign(SECRETS.cpg, first)))).statuses).toEqual([
      200,
    ])
    const forged = Buffer.alloc(60_000, 0x66)
    for (let i = 0; i < 3; i++)
      expect((await exchange(port, post('/webhooks/cpg', forged, sign('x', forged)))).statuses).toEqual([401])
    // The last of them came from a penalised source.
    expect(
      sample(await metrics.registry.metrics(), 'tylt_relay_webhook_refusals_total', { over_limit: 'true' }),
    ).toBe(1)
    const batch = Array.from({ length: 8 }, (_, i) => {
      const body = callback(`large-after-flood-${i}`, 250_000)
      return exchange(port, post('/webhooks/cpg', body, sign(SECRETS.cpg, body)))
    })
    const answers = await Promise.all(batch)
    expect(answers.map((a) => [a.statuses, a.bodies])).toEqual(Array(8).fill([[200], ['ok']]))
    expect(stored()).toHaveLength(9)
  })
})
