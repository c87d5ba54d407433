import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import { startConsumer } from '../helpers/http-consumer.js'
import { eventually, SECRETS, sign } from '../helpers/index.js'
import { post } from '../helpers/relay-process.js'
import { startTestRelay, type TestRelay } from '../helpers/test-relay.js'

const DEMO_SECRET = 'demo-secret-5be0c3a91f'
const signingSecret = (fill: number) => `whsec_${Buffer.alloc(32, fill).toString('base64')}`

/** Whether a delivery carries a Standard Webhooks signature made with `secret`, checked by the package. */
function signedWith(secret: string, body: string, headers: Record<string, unknown>): boolean {
  try {
    new Webhook(secret).verify(body, headers as Record<string, string>)
    return true
  } catch {
    return false
  }
}

async function accept(relay: TestRelay, service: 'cpg' | 'demo', tag: string, count: number) {
  const secret = service === 'cpg' ? SECRETS.cpg : DEMO_SECRET
  const bodies: string[] = []
  for (let i = 0; i < count; i++) {
    const body = JSON.stringify({ type: 'pay-in', data: { orderId: `${service}-${tag}-${i}` } })
    bodies.push(body)
    expect(await post(`${relay.url}/webhooks/${service}`, body, sign(secret, body))).toEqual({
      status: 200,
      body: 'ok',
    })
  }
  return bodies
}

/**
 * A relay for services cpg and demo: cpg goes to a `production` consumer through FORWARD_URL, demo to a
 * `staging` one through FORWARD_URL_DEMO; `extra` adds settings.
 */
async function twoDownstreams(extra: Record<string, string> = {}) {
  const production = await startConsumer('/production')
  const staging = await startConsumer('/staging')
  const relay = await startTestRelay({
    TYLT_SECRET_CPG: SECRETS.cpg,
    TYLT_SECRET_DEMO: DEMO_SECRET,
    FORWARD_URL: production.url,
    FORWARD_URL_DEMO: staging.url,
    ...extra,
  })
  return { production, staging, relay }
}

/** Pending events, newest first. */
const pending = (relay: TestRelay) => relay.relay.store.list({ limit: 1_000, state: 'pending' })

describe('a downstream per service (FORWARD_URL_<NAME>)', () => {
  it("each downstream receives only its service's events, and one that hangs does not delay the other", async () => {
    const { production, staging, relay } = await twoDownstreams({ SHUTDOWN_GRACE: '2s' })
    const cpg = await accept(relay, 'cpg', 'a', 5)
    const demo = await accept(relay, 'demo', 'a', 5)
    await eventually(
      async () => production.received.length + staging.received.length,
      (n) => n >= 10,
    )
    expect(production.bodies).toEqual(cpg)
    expect(staging.bodies).toEqual(demo)

    // Staging stops answering: its events wait, production's keep flowing at once.
    staging.answer = () => 'hang'
    const demoLater = await accept(relay, 'demo', 'b', 3)
    await eventually(
      async () => staging.offered.length,
      (n) => n >= 6,
    )
    const cpgLater = await accept(relay, 'cpg', 'b', 5)
    // Well inside the 10 s a hung send takes to time out, which is what a shared line would wait.
    await eventually(
      async () => production.received.length,
      (n) => n >= 10,
      5_000,
    )
    expect(production.bodies).toEqual([...cpg, ...cpgLater])
    expect(staging.received).toHaveLength(5)

    const metrics = await relay.metrics()
    expect(metrics).toContain(`tylt_relay_forwarder_up{downstream="${production.url}"} 1`)
    expect(metrics).toMatch(
      /tylt_relay_forwarder_last_progress_timestamp_seconds\{downstream="http:\/\/127\.0\.0\.1:\d+\/staging"\} \d/,
    )

    staging.answer = () => ({ status: 200 })
    await eventually(
      async () => staging.bodies.length,
      (n) => n >= 8,
      30_000,
    )
    expect(staging.bodies).toEqual([...demo, ...demoLater])
    expect(production.bodies.some((b) => b.includes('"demo-'))).toBe(false)
    expect(await pending(relay)).toEqual([])
    expect(await relay.stop()).toEqual({ drained: true, pending: 0 })
  }, 90_000)

  it("FORWARD_SIGNING_SECRET_<NAME> signs that service's deliveries with its own secret, the others with FORWARD_SIGNING_SECRET", async () => {
    const [prodSecret, demoSecret] = [signingSecret(3), signingSecret(5)]
    const { production, staging, relay } = await twoDownstreams({
      FORWARD_SIGNING_SECRET: prodSecret,
      FORWARD_SIGNING_SECRET_DEMO: demoSecret,
    })
    const cpg = await accept(relay, 'cpg', 's', 3)
    const demo = await accept(relay, 'demo', 's', 3)
    await eventually(
      async () => production.received.length + staging.received.length,
      (n) => n >= 6,
    )
    expect([production.bodies, staging.bodies]).toEqual([cpg, demo])
    const verdicts = (consumer: typeof production) =>
      consumer.bodies.map((body, i) => [
        signedWith(prodSecret, body, consumer.headers[i]!),
        signedWith(demoSecret, body, consumer.headers[i]!),
      ])
    expect(verdicts(production)).toEqual([
      [true, false],
      [true, false],
      [true, false],
    ])
    expect(verdicts(staging)).toEqual([
      [false, true],
      [false, true],
      [false, true],
    ])
    expect(relay.output()).not.toContain(Buffer.alloc(32, 5).toString('base64'))
    expect(await relay.stop()).toEqual({ drained: true, pending: 0 })
  }, 60_000)

  it("a downstream that refuses connections (stopped) does not delay the other's deliveries", async () => {
    const { production, staging, relay } = await twoDownstreams()
    const demo = await accept(relay, 'demo', 'a', 2)
    await eventually(
      async () => staging.received.length,
      (n) => n >= 2,
    )

    await staging.stop()
    const demoLater = await accept(relay, 'demo', 'b', 3)
    // Five refused attempts in a row on the oldest (a forwarder in trouble tries one event at a time):
    // staging's next try is 4-8 s away, which a shared line would wait out.
    const oldestPending = async () => (await pending(relay)).at(-1)
    await eventually(oldestPending, (event) => Number(event?.attempts) >= 5, 20_000)
    expect((await oldestPending())?.lastError).toMatch(/ECONNREFUSED/)
    const started = Date.now()
    const cpg = await accept(relay, 'cpg', 'a', 5)
    await eventually(
      async () => production.received.length,
      (n) => n >= 5,
      2_500,
    )
    expect(Date.now() - started).toBeLessThan(2_500)
    expect(production.bodies).toEqual(cpg)
    expect(staging.received).toHaveLength(2)

    await staging.start()
    await eventually(
      async () => staging.bodies.length,
      (n) => n >= 5,
      40_000,
    )
    expect(staging.bodies).toEqual([...demo, ...demoLater])
    expect(production.bodies.some((b) => b.includes('"demo-'))).toBe(false)
    expect(await relay.stop()).toEqual({ drained: true, pending: 0 })
  }, 90_000)

  it('refuses FORWARD_URL_<NAME> for a service that is not configured, naming it', async () => {
    const starting = startTestRelay({
      TYLT_SECRET_CPG: SECRETS.cpg,
      FORWARD_URL_DEMO: 'redis://u:topsecret@127.0.0.1:6379?stream=x',
    })
    await expect(starting).rejects.toThrow(/FORWARD_URL_DEMO: no service "demo" is configured/)
    await expect(starting).rejects.not.toThrow(/topsecret/)
  })
})
