import { describe, expect, it, onTestFinished } from 'vitest'
import type { Metrics } from '../../src/ops/metrics.js'
import { fixture } from '../helpers/fixtures.js'
import { buildTestApp, SECRETS, sign } from '../helpers/index.js'

const body = fixture('cpg-pay-in.json')

/**
 * The webhook app with hair-trigger pressure: 30 ms of mean event-loop lag, sampled every 50 ms (the blocked
 * loop below lags about 60 ms; a busy test machine's idle loop stays under 30).
 */
async function buildTouchyApp() {
  const test = await buildTestApp({}, undefined, {
    admission: { maxEventLoopDelayMs: 30, sampleIntervalMs: 50 },
  })
  await test.app.ready()
  return test
}

/** Keeps the event loop busy 60 ms of every turn, as a relay past its capacity would be. */
function blockEventLoop(): () => void {
  const timer = setInterval(() => {
    const until = performance.now() + 60
    while (performance.now() < until) {
      // busy
    }
  }, 1)
  return () => clearInterval(timer)
}

/** The webhook requests counted so far, by label set. */
const requests = (metrics: Metrics) =>
  metrics.registry.getSingleMetric('tylt_relay_webhook_requests_total')!.get()

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const post = (app: Awaited<ReturnType<typeof buildTouchyApp>>['app'], url = '/webhooks/cpg') =>
  app.inject({ method: 'POST', url, headers: { 'x-tlp-signature': sign(SECRETS.cpg, body) }, payload: body })

describe('overload', () => {
  it('answers 503 "overloaded" with Retry-After while the event loop lags, stores nothing, then recovers', async () => {
    const { app, metrics, stored } = await buildTouchyApp()
    expect((await post(app)).statusCode).toBe(200)
    const before = stored().length

    const unblock = blockEventLoop()
    onTestFinished(unblock)
    // Re-sends of the event already stored (duplicates) probe until the guard has sampled the lag.
    const deadline = Date.now() + 5_000
    while ((await post(app)).statusCode !== 503 && Date.now() < deadline) await sleep(20)
    const other = Buffer.from('{"type":"pay-in","data":{"orderId":"while-overloaded"}}')
    const answers = await Promise.all([
      post(app),
      post(app, '/webhooks'),
      app.inject({
        method: 'POST',
        url: '/webhooks/cpg',
        headers: { 'x-tlp-signature': sign(SECRETS.cpg, other) },
        payload: other,
      }),
    ])
    unblock()

    for (const answer of answers) {
      expect(answer.statusCode).toBe(503)
      expect(answer.headers['retry-after']).toBe('5')
      expect(answer.headers['content-type']).toMatch(/^text\/plain/)
      expect(answer.body).toBe('overloaded, retry later')
    }
    expect(stored()).toHaveLength(before)
    const overloaded = await requests(metrics)
    expect(
      overloaded.values.filter((v) => v.labels.outcome === 'overloaded').reduce((n, v) => n + v.value, 0),
    ).toBeGreaterThanOrEqual(3)
    // Refused before verification: no signature was checked, so no failure was counted either.
    expect(
      (await metrics.registry.getSingleMetric('tylt_relay_verification_failures_total')!.get()).values,
    ).toEqual([])

    // Once the lag is gone the new event is accepted (a 503 meanwhile stored nothing, as above).
    const recovered = Date.now() + 5_000
    const postOther = () =>
      app.inject({
        method: 'POST',
        url: '/webhooks/cpg',
        headers: { 'x-tlp-signature': sign(SECRETS.cpg, other) },
        payload: other,
      })
    let res = await postOther()
    while (res.statusCode === 503 && Date.now() < recovered) {
      await sleep(20)
      res = await postOther()
    }
    expect([res.statusCode, res.body]).toEqual([200, 'ok'])
    expect(stored()).toHaveLength(before + 1)
  })

  it('does not refuse anything when the event loop is healthy', async () => {
    const { app, metrics } = await buildTouchyApp()
    await sleep(200)
    const answers = await Promise.all(Array.from({ length: 20 }, () => post(app)))
    expect(answers.map((a) => a.statusCode)).toEqual(Array(20).fill(200))
    const values = (await requests(metrics)).values
    expect(values.some((v) => v.labels.outcome === 'overloaded')).toBe(false)
  })
})
