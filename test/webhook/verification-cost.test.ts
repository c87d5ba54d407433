import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest'
import { FALLBACK_MAX_BYTES } from '../../src/constants.js'
import type { RefusedRequest } from '../../src/core/quarantine-store.js'
import { buildTestApp, sample, sign, sleep } from '../helpers/index.js'

/** 20 services of 2 keys each, as the forged-flood bench runs `POST /webhooks`. */
const MANY: Record<string, string> = {}
for (let i = 0; i < 20; i++) MANY[`TYLT_SECRET_SVC${i}`] = `svc-${i}-current-secret,svc-${i}-older-secret`

const compact = (pad = 0) =>
  Buffer.from(
    JSON.stringify({
      type: 'pay-in',
      data: { orderId: `o-${pad}`, merchantOrderId: 'M-1', pad: 'x'.repeat(pad) },
    }),
  )
/** The same JSON pretty-printed: verifies only through the fallback when signed over `compact`. */
const pretty = (bytes: Buffer) => Buffer.from(JSON.stringify(JSON.parse(bytes.toString()), null, 2))

function recorder() {
  const seen: RefusedRequest[] = []
  return { seen, quarantine: { refused: (r: RefusedRequest) => void seen.push(r) } }
}

afterEach(() => vi.restoreAllMocks())

describe('the JSON fallback runs only where it can matter', () => {
  it('parses a forged body once per request, however many services and keys are tried', async () => {
    const { app } = await buildTestApp(MANY)
    const body = pretty(compact(100))
    const parse = vi.spyOn(JSON, 'parse')
    const res = await app.inject({
      method: 'POST',
      url: '/webhooks',
      headers: { 'x-tlp-signature': sign('forged', body) },
      payload: body,
    })
    expect(res.statusCode).toBe(401)
    expect(parse.mock.calls.filter(([text]) => String(text).length === body.length)).toHaveLength(1)
  })

  it(`verifies a pretty-printed body up to ${FALLBACK_MAX_BYTES} bytes through the fallback, and never a larger one`, async () => {
    const { app, stored } = await buildTestApp(MANY)
    const fits = compact(FALLBACK_MAX_BYTES - 200)
    const tooBig = compact(FALLBACK_MAX_BYTES)
    expect(pretty(fits).length).toBeLessThanOrEqual(FALLBACK_MAX_BYTES)
    expect(pretty(tooBig).length).toBeGreaterThan(FALLBACK_MAX_BYTES)
    const send = (bytes: Buffer, payload: Buffer) =>
      app.inject({
        method: 'POST',
        url: '/webhooks',
        headers: { 'x-tlp-signature': sign('svc-7-older-secret', bytes) },
        payload,
      })
    const [fitsPretty, tooBigPretty] = [pretty(fits), pretty(tooBig)]
    const parse = vi.spyOn(JSON, 'parse')
    expect((await send(tooBig, tooBigPretty)).statusCode).toBe(401)
    expect(parse.mock.calls.filter(([text]) => String(text).length > FALLBACK_MAX_BYTES)).toHaveLength(0)
    expect((await send(fits, fitsPretty)).statusCode).toBe(200)
    expect(stored().map((e) => [e.service, Buffer.from(e.body).equals(fits)])).toEqual([['svc7', true]])
  })
})

const forged = compact(10)
/** A budget that three refusals of `forged` pretty-printed (what `inject` reads for each) empty. */
// Pressure is the subject of its own tests below: here a busy machine must not turn a 401 into a 503.
const LIMIT = { budgetBytes: 3 * pretty(forged).length, refillBytesPerSecond: 0, maxEventLoopUtilization: 1 }

describe('refusals from a penalised source (out of budget)', () => {
  const remoteAddress = '192.0.2.50'
  const post = (
    app: Awaited<ReturnType<typeof buildTestApp>>['app'],
    payload: Buffer,
    signature: string,
    from = remoteAddress,
  ) =>
    app.inject({
      method: 'POST',
      url: '/webhooks/svc3',
      headers: { 'x-tlp-signature': signature },
      payload,
      remoteAddress: from,
    })

  it('are still 401, skip the fallback, are not handed to the quarantine, and are counted', async () => {
    const { seen, quarantine } = recorder()
    const { app, metrics } = await buildTestApp(MANY, undefined, { quarantine, admission: LIMIT })
    const answers = []
    for (let i = 0; i < 8; i++)
      answers.push((await post(app, pretty(forged), sign('forged', forged))).statusCode)
    expect(answers).toEqual(Array(8).fill(401))
    expect(seen).toHaveLength(3)
    const payload = pretty(forged)
    const parse = vi.spyOn(JSON, 'parse')
    expect((await post(app, payload, sign('forged', forged))).statusCode).toBe(401)
    expect(parse).not.toHaveBeenCalled()
    const text = await metrics.registry.metrics()
    expect(
      sample(text, 'tylt_relay_webhook_refusals_total', { reason: 'mismatch', over_limit: 'false' }),
    ).toBe(3)
    expect(
      sample(text, 'tylt_relay_webhook_refusals_total', { reason: 'mismatch', over_limit: 'true' }),
    ).toBe(6)
  })

  it('a genuine callback from the same address is still accepted (raw bytes, one HMAC per key)', async () => {
    const { seen, quarantine } = recorder()
    const { app, stored } = await buildTestApp(MANY, undefined, { quarantine, admission: LIMIT })
    for (let i = 0; i < 5; i++) await post(app, pretty(forged), sign('forged', forged))
    const genuine = compact(20)
    const res = await post(app, genuine, sign('svc-3-older-secret', genuine))
    expect([res.statusCode, res.body]).toEqual([200, 'ok'])
    // A pretty-printed genuine one needs the fallback, which this address no longer gets; from elsewhere it does.
    const prettyGenuine = compact(30)
    expect(
      (await post(app, pretty(prettyGenuine), sign('svc-3-current-secret', prettyGenuine))).statusCode,
    ).toBe(401)
    expect(
      (await post(app, pretty(prettyGenuine), sign('svc-3-current-secret', prettyGenuine), '198.51.100.9'))
        .statusCode,
    ).toBe(200)
    expect(stored().map((e) => e.service)).toEqual(['svc3', 'svc3'])
    expect(seen).toHaveLength(3)
  })

  it('a request declaring a body larger than any callback gets 413 before it is read; from others it is served', async () => {
    const { app, metrics } = await buildTestApp(MANY, undefined, { admission: LIMIT })
    for (let i = 0; i < 4; i++) await post(app, pretty(forged), sign('forged', forged))
    const big = compact(70_000)
    const res = await post(app, big, sign('svc-3-current-secret', big))
    expect([res.statusCode, res.body, res.headers.connection]).toEqual([413, 'payload too large', 'close'])
    expect(
      sample(await metrics.registry.metrics(), 'tylt_relay_webhook_requests_total', { outcome: 'too_large' }),
    ).toBe(1)
    // From an address that is not penalised, the same body is verified as usual.
    expect((await post(app, big, sign('svc-3-current-secret', big), '198.51.100.7')).statusCode).toBe(200)
  })

  it('unknown services count too: once penalised, the 404 comes before the body is read', async () => {
    const { seen, quarantine } = recorder()
    const { app } = await buildTestApp(MANY, undefined, {
      quarantine,
      admission: { ...LIMIT, budgetBytes: 3 * forged.length },
    })
    const answers = []
    for (let i = 0; i < 6; i++) {
      const res = await app.inject({ method: 'POST', url: '/webhooks/nope', payload: forged, remoteAddress })
      answers.push([res.statusCode, res.body, res.headers.connection])
    }
    expect(answers.map(([status, body]) => [status, body])).toEqual(Array(6).fill([404, 'not found']))
    // Read for the quarantine while within budget; refused unread (and not drained) once penalised.
    expect(answers.map(([, , connection]) => connection)).toEqual([
      'keep-alive',
      'keep-alive',
      'keep-alive',
      'close',
      'close',
      'close',
    ])
    expect(seen.map((r) => r.reason)).toEqual(['unknown_service', 'unknown_service', 'unknown_service'])
  })
})

describe('pressure', () => {
  /** Keeps the event loop busy 15 ms of every 25, without the lag that refuses everyone. */
  function keepBusy(): () => void {
    const timer = setInterval(() => {
      const until = performance.now() + 15
      while (performance.now() < until) {
        // busy
      }
    }, 10)
    onTestFinished(() => clearInterval(timer))
    return () => clearInterval(timer)
  }

  it('under event-loop-utilisation pressure, a penalised source gets 503 with Retry-After before its body is read; others are served', async () => {
    const { seen, quarantine } = recorder()
    const { app, stored } = await buildTestApp(MANY, undefined, {
      quarantine,
      admission: {
        ...LIMIT,
        maxEventLoopDelayMs: 10_000,
        maxEventLoopUtilization: 0.3,
        sampleIntervalMs: 100,
      },
    })
    await app.ready()
    const attacker = '203.0.113.66'
    const forgedFrom = (from: string) =>
      app.inject({
        method: 'POST',
        url: '/webhooks/svc1',
        headers: { 'x-tlp-signature': sign('forged', forged) },
        payload: pretty(forged),
        remoteAddress: from,
      })
    for (let i = 0; i < 4; i++) expect((await forgedFrom(attacker)).statusCode).toBe(401)
    const stop = keepBusy()
    const deadline = Date.now() + 5_000
    let shed = await forgedFrom(attacker)
    while (shed.statusCode !== 503 && Date.now() < deadline) {
      await sleep(20)
      shed = await forgedFrom(attacker)
    }
    expect([shed.statusCode, shed.body, shed.headers['retry-after'], shed.headers.connection]).toEqual([
      503,
      'overloaded, retry later',
      '5',
      'close',
    ])
    const genuine = compact(40)
    const served = await app.inject({
      method: 'POST',
      url: '/webhooks/svc1',
      headers: { 'x-tlp-signature': sign('svc-1-current-secret', genuine) },
      payload: genuine,
      remoteAddress: '198.51.100.1',
    })
    expect([served.statusCode, served.body]).toEqual([200, 'ok'])
    // A source that is not penalised has its forgery verified and refused as usual.
    expect((await forgedFrom('198.51.100.2')).statusCode).toBe(401)
    stop()
    // Once the loop is idle again, the penalised source is verified again (and refused for its signature).
    const idleBy = Date.now() + 8_000
    let again = await forgedFrom(attacker)
    while (again.statusCode === 503 && Date.now() < idleBy) {
      await sleep(50)
      again = await forgedFrom(attacker)
    }
    expect(again.statusCode).toBe(401)
    expect(stored().map((e) => e.service)).toEqual(['svc1'])
    expect(seen.filter((r) => r.sourceAddress === attacker)).toHaveLength(3)
  })

  it('the event-loop monitor’s readings are reachable for the gauges', async () => {
    const { app } = await buildTestApp({}, undefined, { admission: { sampleIntervalMs: 20 } })
    await app.ready()
    await sleep(100)
    const reading = app.pressure()
    expect(Object.keys(reading).sort()).toEqual([
      'eventLoopDelay',
      'eventLoopUtilized',
      'heapUsed',
      'rssBytes',
    ])
    expect(reading.heapUsed).toBeGreaterThan(0)
    expect(reading.eventLoopUtilized).toBeGreaterThanOrEqual(0)
    expect(reading.eventLoopUtilized).toBeLessThanOrEqual(1)
  })
})
