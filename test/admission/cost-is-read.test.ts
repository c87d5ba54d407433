import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { buildTestApp, sample, sign } from '../helpers/index.js'
import { freePort } from '../helpers/ports.js'
import { chunkedPost, exchange } from './raw-http.js'

describe('a refusal costs its source what was read for it', () => {
  it('chunked bodies to an unknown service are charged by their bytes, not by what they declare', async () => {
    const seen: number[] = []
    const { app, metrics } = await buildTestApp({}, pino({ level: 'silent' }), {
      quarantine: { refused: (r) => void seen.push(r.body.length) },
      // Five 200 KB bodies empty this budget; charged a flat kilobyte each, a thousand would be needed.
      // Pressure is not the subject here: a busy machine must not turn a 404 into a 503.
      admission: { budgetBytes: 1_000_000, refillBytesPerSecond: 0, maxEventLoopUtilization: 1 },
    })
    const port = await freePort()
    await app.listen({ port, host: '127.0.0.1' })
    const body = Buffer.alloc(200_000, 0x62)
    const answers = []
    for (let i = 0; i < 8; i++)
      answers.push(await exchange(port, chunkedPost('/webhooks/not-configured', body, sign('x', body))))
    expect(answers.map((a) => a.statuses)).toEqual(Array(8).fill([404]))
    // Read whole (for the quarantine) while within budget; once penalised, refused before it is read.
    expect(seen).toEqual(Array(5).fill(200_000))
    const text = await metrics.registry.metrics()
    expect(sample(text, 'tylt_relay_webhook_refusals_total', { over_limit: 'false' })).toBe(5)
    expect(sample(text, 'tylt_relay_webhook_refusals_total', { over_limit: 'true' })).toBe(3)
  })

  it('a body over BODY_LIMIT is charged what was read before it was refused', async () => {
    const { app, metrics } = await buildTestApp({ BODY_LIMIT: '100000' }, pino({ level: 'silent' }), {
      admission: { budgetBytes: 500_000, refillBytesPerSecond: 0, maxEventLoopUtilization: 1 },
    })
    const port = await freePort()
    await app.listen({ port, host: '127.0.0.1' })
    // Chunked, so nothing declares its size: each is read up to BODY_LIMIT, then answered 413.
    const body = Buffer.alloc(150_000, 0x63)
    const answers = []
    for (let i = 0; i < 7; i++)
      answers.push(await exchange(port, chunkedPost('/webhooks/cpg', body, sign('x', body))))
    // Answered, and the connection closed rather than the rest of the body drained.
    expect(answers.map((a) => [a.statuses, a.closed])).toEqual(Array(7).fill([[413], true]))
    // Five reads of 100 KB or more empty the budget: the sixth and seventh come from a penalised source.
    const signed = Buffer.from('{}')
    const penalised = await app.inject({
      method: 'POST',
      url: '/webhooks/cpg',
      headers: { 'x-tlp-signature': sign('x', signed) },
      payload: signed,
      remoteAddress: '127.0.0.1',
    })
    expect(penalised.statusCode).toBe(401)
    expect(
      sample(await metrics.registry.metrics(), 'tylt_relay_webhook_refusals_total', { over_limit: 'true' }),
    ).toBe(1)
  })
})
