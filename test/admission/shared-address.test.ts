import pino from 'pino'
import { describe, expect, it } from 'vitest'
import type { AppDeps } from '../../src/app.js'
import { buildTestApp, SECRETS, sign } from '../helpers/index.js'
import { freePort } from '../helpers/ports.js'
import { chunkedPost, type Exchange, exchange, post } from './raw-http.js'

/**
 * Every request comes from 127.0.0.1 and TRUST_PROXY is unset, as behind an ingress the relay is not told
 * about, a NAT, or one CDN edge shared by Tylt and an attacker: admission sees one source for all of them.
 */
async function sharedAddressRelay(admission: AppDeps['admission'] = {}) {
  const lines: Record<string, unknown>[] = []
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) })
  const test = await buildTestApp({}, logger, { admission })
  const port = await freePort()
  await test.app.listen({ port, host: '127.0.0.1' })
  let n = 0
  /** One of Tylt's callbacks, on a connection of its own. */
  const callback = () => {
    const body = Buffer.from(
      JSON.stringify({ type: 'pay-in', data: { orderId: `tylt-${n++}`, status: 'paid' } }),
    )
    return exchange(port, post('/webhooks/cpg', body, sign(SECRETS.cpg, body)))
  }
  /** Requests counted with this outcome, whatever their service. */
  const count = async (outcome: string) => {
    const text = await test.metrics.registry.metrics()
    return text
      .split('\n')
      .filter((l) => l.startsWith('tylt_relay_webhook_requests_total{') && l.includes(`outcome="${outcome}"`))
      .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0)
  }
  return { ...test, port, lines, callback, count }
}

const forged = (bytes: number) => Buffer.alloc(bytes, 0x61)
const FORGED_SIGNATURE = sign('not-the-secret', 'x')

/** A genuine callback may be refused only as a whole process out of CPU is: 503 with Retry-After. */
function genuineProblems(answers: Exchange[]) {
  return answers.filter(
    (a) =>
      !(a.statuses[0] === 200 && a.bodies[0] === 'ok') &&
      !(a.statuses[0] === 503 && a.retryAfter[0] !== undefined),
  )
}

describe('one address shared by Tylt and a forger', () => {
  it('12 forged 60 KB bodies and one declaring 70 KB: every callback of Tylt from the same address gets 200', async () => {
    const relay = await sharedAddressRelay()
    const refusals = []
    for (let i = 0; i < 12; i++)
      refusals.push(await exchange(relay.port, post('/webhooks/cpg', forged(60_000), FORGED_SIGNATURE)))
    refusals.push(await exchange(relay.port, post('/webhooks/cpg', forged(70_000), FORGED_SIGNATURE)))
    expect(refusals.map((r) => r.statuses)).toEqual(Array(13).fill([401]))
    const callbacks = []
    for (let i = 0; i < 30; i++) callbacks.push(await relay.callback())
    expect(callbacks.map((c) => [c.statuses, c.bodies, c.error])).toEqual(
      Array(30).fill([[200], ['ok'], undefined]),
    )
    expect(relay.stored()).toHaveLength(30)
  })

  it('the same once the address is penalised: its oversized request gets a 413 answer, logged and counted; Tylt’s callbacks still get 200', async () => {
    // A budget the twelve forgeries empty.
    // Pressure is the next test's: here a busy machine must not turn the 413 into a 503.
    const relay = await sharedAddressRelay({
      budgetBytes: 500_000,
      refillBytesPerSecond: 0,
      maxEventLoopUtilization: 1,
    })
    for (let i = 0; i < 12; i++) {
      const refusal = await exchange(relay.port, post('/webhooks/cpg', forged(60_000), FORGED_SIGNATURE))
      expect(refusal.statuses).toEqual([401])
    }
    const large = await exchange(relay.port, post('/webhooks/cpg', forged(70_000), FORGED_SIGNATURE))
    expect([large.statuses, large.bodies]).toEqual([[413], ['payload too large']])
    const callbacks = []
    for (let i = 0; i < 30; i++) callbacks.push(await relay.callback())
    expect(callbacks.map((c) => [c.statuses, c.bodies, c.error])).toEqual(
      Array(30).fill([[200], ['ok'], undefined]),
    )
    expect(relay.stored()).toHaveLength(30)
    expect(await relay.count('too_large')).toBe(1)
    expect(await relay.count('invalid_signature')).toBe(12)
    expect(await relay.count('accepted')).toBe(30)
    const webhookLines = relay.lines.filter((l) => l.msg === 'webhook')
    expect(webhookLines.filter((l) => l.level === 40).map((l) => l.statusCode)).toEqual([
      ...Array(12).fill(401),
      413,
    ])
    expect(webhookLines.filter((l) => l.level === 30)).toHaveLength(30)
  })

  it('forgeries of every size and framing, at full rate, mixed with callbacks: no callback reset (200, or 503 with Retry-After when out of CPU), every forgery answered, logged and counted', async () => {
    const relay = await sharedAddressRelay({ budgetBytes: 2_000_000, refillBytesPerSecond: 100_000 })
    const kinds = [
      post('/webhooks/cpg', forged(300), FORGED_SIGNATURE),
      post('/webhooks/cpg', forged(60_000), FORGED_SIGNATURE),
      post('/webhooks/cpg', forged(70_000), FORGED_SIGNATURE),
      post('/webhooks/cpg', forged(300_000), FORGED_SIGNATURE),
      chunkedPost('/webhooks/cpg', forged(100_000), FORGED_SIGNATURE),
      chunkedPost('/webhooks/nope', forged(100_000), FORGED_SIGNATURE),
      post('/webhooks/nope', forged(2_000), FORGED_SIGNATURE),
      // Four requests on one connection, not waiting for the answers.
      Buffer.concat(Array(4).fill(post('/webhooks/cpg', forged(500), FORGED_SIGNATURE))),
    ]
    const forgeries: Exchange[] = []
    let written = 0
    let flooding = true
    const forger = async (worker: number) => {
      for (let i = worker; flooding || i < 40; i += 8) {
        const kind = i % kinds.length
        written += kind === 7 ? 4 : 1
        forgeries.push(await exchange(relay.port, kinds[kind]!, { expected: kind === 7 ? 4 : 1 }))
      }
    }
    const flood = Promise.all(Array.from({ length: 8 }, (_, w) => forger(w)))
    const callbacks: Exchange[] = []
    for (let i = 0; i < 60; i++) callbacks.push(await relay.callback())
    flooding = false
    await flood

    expect(genuineProblems(callbacks)).toEqual([])
    const accepted = callbacks.filter((c) => c.statuses[0] === 200).length
    expect(relay.stored()).toHaveLength(accepted)
    // Every forgery got an HTTP answer that refuses it; none was reset without one. Of four pipelined
    // requests, those after an answer that closed the connection were never read (HTTP: send them again).
    const statuses = forgeries.flatMap((f) => f.statuses)
    const sent = statuses.length
    expect(forgeries.filter((f) => f.error !== undefined)).toEqual([])
    expect(forgeries.filter((f) => f.statuses.length === 0)).toEqual([])
    expect(forgeries.filter((f) => f.statuses.length < 4 && f.statuses.length > 1 && !f.closed)).toEqual([])
    expect(statuses.filter((s) => ![401, 404, 413, 503].includes(s))).toEqual([])
    // The flood emptied the budget: its oversized requests ended refused before they were read.
    expect(statuses.filter((s) => s === 413).length).toBeGreaterThan(0)
    // Counted, each (and those read after an answer that closed their connection, whose answers were lost).
    const refused = ['invalid_signature', 'unknown_service', 'too_large', 'overloaded']
    let counted = 0
    for (const outcome of refused) counted += await relay.count(outcome)
    expect(counted).toBeGreaterThanOrEqual(sent)
    expect(counted).toBeLessThanOrEqual(written)
    // Logged, each: a line at warn, or counted in the `suppressed` of a later one.
    const lines = relay.lines.filter((l) => l.msg === 'webhook' && l.level === 40)
    const logged = lines.length + lines.reduce((n, l) => n + Number(l.suppressed ?? 0), 0)
    expect(logged).toBeLessThanOrEqual(counted)
    expect(lines.length).toBeLessThan(sent)
    expect(lines.length).toBeGreaterThanOrEqual(20)
  }, 60_000)
})
