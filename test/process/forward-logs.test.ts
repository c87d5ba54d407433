import { describe, expect, it } from 'vitest'
import { startConsumer } from '../helpers/http-consumer.js'
import { eventually, SECRETS, sign } from '../helpers/index.js'
import { freePort, post } from '../helpers/relay-process.js'
import { startTestRelay, type TestRelay } from '../helpers/test-relay.js'

const callback = (i: number, note = '') =>
  Buffer.from(JSON.stringify({ type: 'pay-in', data: { orderId: `log-${i}`, note } }))

async function accept(relay: TestRelay, bodies: readonly Buffer[]) {
  for (const body of bodies) {
    expect(await post(`${relay.url}/webhooks/cpg`, body, sign(SECRETS.cpg, body))).toEqual({
      status: 200,
      body: 'ok',
    })
  }
}

const jsonLines = (relay: TestRelay) => relay.lines.map((l) => JSON.parse(l) as Record<string, unknown>)

const eventsIn = (relay: TestRelay, state: 'pending' | 'dead') =>
  relay.relay.store.list({ limit: 1_000, state })

describe('a downstream that refuses one event for good (HTTP 413)', () => {
  it('dead-letters that event with the answer recorded, delivers the ones after it, and logs one line without a stack', async () => {
    const consumer = await startConsumer()
    consumer.answer = (body) => (body.includes('too-large') ? { status: 413 } : { status: 200 })
    const relay = await startTestRelay({ TYLT_SECRET_CPG: SECRETS.cpg, FORWARD_URL: consumer.url })
    const bodies = [callback(0), callback(1, 'too-large'), callback(2), callback(3), callback(4)]
    await accept(relay, bodies)
    // "Within seconds": sooner than any retry backoff, so the 413 was not taken for an outage.
    await eventually(
      async () => consumer.received.length,
      (n) => n >= 4,
      10_000,
    )
    expect(consumer.bodies).toEqual([0, 2, 3, 4].map((i) => bodies[i]!.toString()))
    expect(consumer.offered.filter((id) => !consumer.received.includes(id))).toHaveLength(1)
    await eventually(
      async () => relay.output(),
      (t) => t.includes('"code":"HTTP_413"'),
      2_000,
    )
    const dead = await eventsIn(relay, 'dead')
    expect(dead.map((e) => e.orderId)).toEqual(['log-1'])
    // Marked delivered once the consumer's answer is in, a moment after the consumer saw the body.
    await eventually(
      () => eventsIn(relay, 'pending'),
      (pending) => pending.length === 0,
    )
    expect(await relay.relay.store.attempts(dead[0]!.id)).toEqual([
      expect.objectContaining({ outcome: 'refused', error: expect.stringContaining('HTTP 413') }),
    ])
    expect(await relay.stop()).toEqual({ drained: true, pending: 0 })
    const refusals = jsonLines(relay).filter((l) => l.code === 'HTTP_413')
    expect(refusals).toHaveLength(1)
    expect(refusals[0]).toMatchObject({
      level: 50,
      eventId: dead[0]!.id,
      error: expect.stringContaining('413'),
    })
    expect(refusals[0]).not.toHaveProperty('err')
    expect(JSON.stringify(refusals[0])).not.toContain('stack')
  }, 60_000)
})

describe('operator logs', () => {
  it('an ordinary delivery failure (connection refused) is one line with a code and a message, not one per retry', async () => {
    // A port nothing listens on: every connection is refused at once.
    const target = `http://127.0.0.1:${await freePort()}/events`
    const relay = await startTestRelay({
      TYLT_SECRET_CPG: SECRETS.cpg,
      FORWARD_URL: target,
      SHUTDOWN_GRACE: '1s',
    })
    await accept(relay, [callback(0)])
    await eventually(
      async () => (await eventsIn(relay, 'pending'))[0]?.attempts ?? 0,
      (n) => n >= 3,
      20_000,
    )
    expect(await relay.stop()).toEqual({ drained: false, pending: 1 })
    const failures = jsonLines(relay).filter((l) => l.msg === 'delivery failed; retrying with backoff')
    expect(failures).toHaveLength(1)
    expect(failures[0]).toMatchObject({
      level: 40,
      code: 'ECONNREFUSED',
      downstream: target,
    })
    expect(failures[0]!.error).toMatch(/ECONNREFUSED/)
    expect(relay.output()).not.toContain('"stack"')
  }, 60_000)

  it('the start line names both listeners and the downstream, its password masked', async () => {
    const relay = await startTestRelay({
      TYLT_SECRET_CPG: SECRETS.cpg,
      FORWARD_URL: 'redis://relay-user:hunter2-pass@127.0.0.1:1?stream=tylt-start',
      SHUTDOWN_GRACE: '1s',
    })
    await eventually(
      async () => relay.output(),
      (t) => t.includes('downstream not ready'),
      10_000,
    )
    expect(await relay.stop()).toMatchObject({ pending: 0 })
    const start = jsonLines(relay).find((l) => String(l.msg).startsWith('tylt-relay ready'))
    expect(start?.msg).toBe(
      `tylt-relay ready: webhooks on ${relay.url}, operations on ${relay.opsUrl}, ` +
        'forwarding to redis redis://relay-user:***@127.0.0.1:1?stream=tylt-start',
    )
    expect(start).toMatchObject({ webhooks: relay.url, operations: relay.opsUrl })
    expect(relay.output()).not.toContain('hunter2')
  }, 60_000)
})
