import { connect } from 'node:net'
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest'
import { FALLBACK_MAX_BYTES, OVERLOAD } from '../../src/constants.js'
import type { RefusedRequest } from '../../src/core/quarantine-store.js'
import { failureCost } from '../../src/verify/failure-limiter.js'
import { buildTestApp, sample, sign } from '../helpers/index.js'
import { freePort } from '../helpers/ports.js'

/** 20 services of 2 keys each, as the forged-flood bench runs `POST /webhooks`. */
const MANY: Record<string, string> = {}
for (let i = 0; i < 20; i++) MANY[`TYLT_SECRET_SVC${i}`] = `svc-${i}-current-secret,svc-${i}-older-secret`

/** What one small forgery against a 2-key service costs with the fallback tried: three of them fit the limit. */
const ONE = failureCost(100, 2, true)
const LIMIT = {
  burst: 3 * ONE,
  perSecond: 0,
  globalBurst: 1e12,
  globalPerSecond: 0,
  addresses: 100,
  suspectMs: 60_000,
}

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

describe('refusals past a source address’s failure limit', () => {
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
    const { app, metrics } = await buildTestApp(MANY, undefined, { quarantine, failureLimit: LIMIT })
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
    const { app, stored } = await buildTestApp(MANY, undefined, { quarantine, failureLimit: LIMIT })
    for (let i = 0; i < 5; i++) await post(app, forged, sign('forged', forged))
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

  it('past the limit, a request declaring a body larger than any callback is shed unread', async () => {
    const { app } = await buildTestApp(MANY, undefined, { failureLimit: LIMIT })
    await app.ready()
    for (let i = 0; i < 4; i++) await post(app, forged, sign('forged', forged))
    const big = compact(70_000)
    const res = await post(app, big, sign('svc-3-current-secret', big))
    expect([res.statusCode, res.body, res.headers.connection]).toEqual([
      503,
      'overloaded, retry later',
      'close',
    ])
    // From an address that is no suspect, the same body is verified as usual.
    expect((await post(app, big, sign('svc-3-current-secret', big), '198.51.100.7')).statusCode).toBe(200)
  })

  it('a source may have at most 4 requests larger than any callback in flight; one after another, any number', async () => {
    const { app, stored } = await buildTestApp(MANY)
    await app.ready()
    const bodies = Array.from({ length: 6 }, (_, i) => compact(70_000 + i))
    const one = (b: Buffer) => post(app, b, sign('svc-3-current-secret', b), '198.51.100.20')
    const together = await Promise.all(bodies.map(one))
    expect(together.map((r) => r.statusCode).sort()).toEqual([200, 200, 200, 200, 503, 503])
    const afterwards = []
    for (const b of bodies) afterwards.push((await one(b)).statusCode)
    expect(afterwards.every((status) => status === 200)).toBe(true)
    expect(stored()).toHaveLength(6)
  })

  it('unknown services count too: past the limit the 404 comes before the body is read', async () => {
    const { seen, quarantine } = recorder()
    // Nothing is hashed for an unknown service: each costs its body size, at least 1 KiB.
    const failureLimit = { ...LIMIT, burst: 3 * failureCost(forged.length, 0, false) }
    const { app } = await buildTestApp(MANY, undefined, { quarantine, failureLimit })
    const answers = []
    for (let i = 0; i < 6; i++) {
      const res = await app.inject({ method: 'POST', url: '/webhooks/nope', payload: forged, remoteAddress })
      answers.push([res.statusCode, res.body])
    }
    expect(answers).toEqual(Array(6).fill([404, 'not found']))
    expect(seen.map((r) => r.reason)).toEqual(['unknown_service', 'unknown_service', 'unknown_service'])
  })
})

describe('the overload guard sheds suspects first', () => {
  /** Keeps the event loop busy 15 ms of every 25, without the lag that makes the guard refuse everyone. */
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
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

  it('while busy, a source refused recently gets 503 and a closed connection before its body is read; others are served', async () => {
    const { seen, quarantine } = recorder()
    const { app, stored } = await buildTestApp(MANY, undefined, {
      quarantine,
      failureLimit: LIMIT,
      overload: {
        maxEventLoopDelayMs: 10_000,
        sampleIntervalMs: 100,
        suspectMaxUtilization: 0.3,
        suspectHoldMs: 300,
      },
    })
    await app.ready()
    const attacker = '203.0.113.66'
    const forgedFrom = (from: string) =>
      app.inject({
        method: 'POST',
        url: '/webhooks/svc1',
        headers: { 'x-tlp-signature': sign('forged', forged) },
        payload: forged,
        remoteAddress: from,
      })
    // Past its limit (3), the attacker is a suspect.
    for (let i = 0; i < 4; i++) expect((await forgedFrom(attacker)).statusCode).toBe(401)
    const stop = keepBusy()
    const deadline = Date.now() + 5_000
    let shed = await forgedFrom(attacker)
    while (shed.statusCode !== 503 && Date.now() < deadline) {
      await sleep(20)
      shed = await forgedFrom(attacker)
    }
    expect([shed.statusCode, shed.body, shed.headers.connection]).toEqual([
      503,
      'overloaded, retry later',
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
    // A source with a refusal or two is not a suspect: its forgery is verified and refused as usual.
    expect((await forgedFrom('198.51.100.2')).statusCode).toBe(401)
    expect((await forgedFrom('198.51.100.2')).statusCode).toBe(401)
    stop()
    // Shedding lasts while suspects keep coming; once idle and past the hold since the last one shed, the
    // suspect is verified again (and refused for its signature). A sample of the loop taken while this
    // process is descheduled (a loaded machine) can read as busy and shed one more: then the next is tried,
    // each after its wait, until the shedding is over.
    await sleep(800)
    const idleBy = Date.now() + 8_000
    let again = await forgedFrom(attacker)
    while (again.statusCode === 503 && Date.now() < idleBy) again = await forgedFrom(attacker)
    expect(again.statusCode).toBe(401)
    expect(stored().map((e) => e.service)).toEqual(['svc1'])
    // Shed requests were never verified, so never handed to the quarantine.
    expect(seen.filter((r) => r.sourceAddress === attacker).length).toBeLessThanOrEqual(3)
  })

  it("when not shedding, a suspect's small request waits before it is verified; one that gives up frees its place and starts the shedding", async () => {
    const delayMs = 400
    const { app, stored } = await buildTestApp(MANY, undefined, {
      failureLimit: LIMIT,
      // Never busy enough to shed: only the wait is left.
      overload: {
        maxEventLoopDelayMs: 10_000,
        sampleIntervalMs: 100,
        suspectMaxUtilization: 1.1,
        suspectDelayMs: delayMs,
        maxHeld: 1,
      },
    })
    const port = await freePort()
    await app.listen({ port, host: '127.0.0.1' })
    const attacker = '127.0.0.2'
    const request = (secret: string, body: Buffer) =>
      `POST /webhooks/svc1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
      `X-TLP-SIGNATURE: ${sign(secret, body)}\r\nContent-Length: ${body.length}\r\n\r\n${body}`
    /** Sends one request from `from`; resolves with the answer's status line and how long it took, or '' if given up. */
    const attempt = (text: string, from: string, giveUpMs = 5_000) =>
      new Promise<{ status: string; ms: number }>((resolve) => {
        const startedAt = performance.now()
        const socket = connect({ port, host: '127.0.0.1', localAddress: from })
        let answer = ''
        socket.setEncoding('latin1')
        socket.on('connect', () => socket.write(text))
        socket.on('data', (chunk: string) => {
          answer += chunk
          if (answer.includes('\r\n\r\n')) socket.destroy()
        })
        socket.on('error', () => {})
        socket.on('close', () =>
          resolve({ status: answer.split('\r\n')[0] ?? '', ms: performance.now() - startedAt }),
        )
        setTimeout(() => socket.destroy(), giveUpMs)
      })
    // Past its limit (3), the attacker is a suspect.
    for (let i = 0; i < 4; i++)
      expect((await attempt(request('forged', forged), attacker)).status).toBe('HTTP/1.1 401 Unauthorized')
    // A genuine callback from the suspect's address is accepted, after its wait (half to one and a half delayMs).
    const genuine = compact(41)
    const accepted = await attempt(request('svc-1-current-secret', genuine), attacker)
    expect(accepted.status).toBe('HTTP/1.1 200 OK')
    expect(accepted.ms).toBeGreaterThanOrEqual(delayMs / 2)
    expect(stored().map((e) => Buffer.from(e.body).equals(genuine))).toEqual([true])
    // A forgery waits as long, then is refused for its signature.
    const refused = await attempt(request('forged', forged), attacker)
    expect(refused.status).toBe('HTTP/1.1 401 Unauthorized')
    expect(refused.ms).toBeGreaterThanOrEqual(delayMs / 2)
    // A connection of the attacker's opened now, before shedding starts, to be used after it has.
    const kept = connect({ port, host: '127.0.0.1', localAddress: attacker })
    kept.setEncoding('latin1')
    await new Promise<void>((resolve) => kept.on('connect', () => resolve()))
    // One place to wait in (maxHeld 1). A suspect that gives up after 20 ms is flooding: its place is freed
    // at once, and shedding starts.
    expect((await attempt(request('forged', forged), attacker, 20)).status).toBe('')
    const startedAt = performance.now()
    const answer = await new Promise<string>((resolve) => {
      let text = ''
      kept.on('data', (chunk: string) => {
        text += chunk
        if (text.includes('\r\n\r\n')) resolve(text.split('\r\n')[0] ?? '')
      })
      kept.write(request('forged', forged))
    })
    // Shed (503), after a wait in the place the one that gave up freed: without a free place it is answered
    // at once.
    expect(answer).toBe('HTTP/1.1 503 Service Unavailable')
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(delayMs / 2)
    kept.destroy()
    // While shedding, the attacker's new connection is held unread; others are verified at once meanwhile.
    expect((await attempt(request('forged', forged), attacker, 300)).status).toBe('')
    const other = await attempt(request('forged', forged), '127.0.0.3')
    expect(other.status).toBe('HTTP/1.1 401 Unauthorized')
    expect(other.ms).toBeLessThan(delayMs / 2)
  })

  it("while shedding, a suspect's new connection is held unread, never answered, and closed after its hold; others are served", async () => {
    const { app, metrics } = await buildTestApp(MANY, undefined, {
      failureLimit: LIMIT,
      overload: {
        maxEventLoopDelayMs: 10_000,
        sampleIntervalMs: 100,
        suspectMaxUtilization: 0.3,
        suspectHoldMs: 2_000,
      },
    })
    const port = await freePort()
    await app.listen({ port, host: '127.0.0.1' })
    const attacker = '127.0.0.2'
    const forgedRequest =
      `POST /webhooks/svc1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
      `X-TLP-SIGNATURE: ${sign('forged', forged)}\r\nContent-Length: ${forged.length}\r\n\r\n${forged}`
    /** Connects from `from`, sends one forged request, and reports what came back within `waitMs`. */
    const attempt = (from: string, waitMs: number) =>
      new Promise<{ answer: string; closedBy: 'relay' | 'sender'; ms: number }>((resolve) => {
        const startedAt = performance.now()
        const socket = connect({ port, host: '127.0.0.1', localAddress: from })
        let answer = ''
        let endedBySender = false
        socket.setEncoding('latin1')
        socket.on('connect', () => socket.write(forgedRequest))
        socket.on('data', (chunk: string) => {
          answer += chunk
        })
        socket.on('error', () => {})
        socket.on('close', () =>
          resolve({
            answer,
            closedBy: endedBySender ? 'sender' : 'relay',
            ms: performance.now() - startedAt,
          }),
        )
        setTimeout(() => {
          endedBySender = true
          socket.end()
        }, waitMs).unref()
      })
    // Past its limit (3), the attacker is a suspect; once the loop is busy, its requests are shed.
    for (let i = 0; i < 4; i++) expect((await attempt(attacker, 200)).answer).toMatch(/^HTTP\/1\.1 401/)
    const stop = keepBusy()
    const deadline = Date.now() + 5_000
    while (!(await attempt(attacker, 200)).answer.startsWith('HTTP/1.1 503') && Date.now() < deadline) {
      await sleep(20)
    }
    const before =
      sample(await metrics.registry.metrics(), 'tylt_relay_suspect_connections_refused_total') ?? 0
    // Held: no answer, the connection open until the relay closes it after its hold (connectionHoldMs).
    const held = await attempt(attacker, 5_000)
    stop()
    expect(held).toMatchObject({ answer: '', closedBy: 'relay' })
    expect(held.ms).toBeGreaterThanOrEqual(OVERLOAD.connectionHoldMs - 5)
    expect(held.ms).toBeLessThan(OVERLOAD.connectionHoldMs + 1_000)
    const after = sample(await metrics.registry.metrics(), 'tylt_relay_suspect_connections_refused_total')
    expect(after).toBe(before + 1)
    // Another source is served meanwhile.
    const genuine = compact(40)
    const served = await new Promise<string>((resolve) => {
      const socket = connect({ port, host: '127.0.0.1' })
      let answer = ''
      socket.setEncoding('latin1')
      socket.on('connect', () =>
        socket.write(
          `POST /webhooks/svc1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
            `X-TLP-SIGNATURE: ${sign('svc-1-current-secret', genuine)}\r\nContent-Length: ${genuine.length}\r\n` +
            `Connection: close\r\n\r\n${genuine}`,
        ),
      )
      socket.on('data', (chunk: string) => {
        answer += chunk
      })
      socket.on('close', () => resolve(answer))
    })
    expect(served).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*\r\n\r\nok$/)
  })
})
