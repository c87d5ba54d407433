import { request } from 'node:http'
import { describe, expect, it } from 'vitest'
import { ADMISSION } from '../../src/admission/admission-limits.js'
import { sample, sign, sleep, tempDir } from '../helpers/index.js'
import { listEvents, startRelay } from '../helpers/relay-process.js'

const SECRET = 'flood-test-secret-6c0d9e'
const FORGED_COUNT = 5_000
const CONNECTIONS = 32
/** The flood comes from another loopback address than the genuine callbacks (Linux routes all of 127/8). */
const ATTACKER = '127.0.0.2'

/** A JSON body of exactly `bytes` bytes made of many small objects: the costliest kind to parse. */
function forgedBody(bytes: number): Buffer {
  const head = '{"type":"pay-in","data":{"items":['
  const item = '{"id":1,"v":"ab"},'
  const tail = ']},"pad":""}'
  const count = Math.floor((bytes - head.length - tail.length) / item.length)
  const items = item.repeat(count).slice(0, -1)
  const pad = 'x'.repeat(bytes - head.length - items.length - tail.length)
  const text = `${head}${items}]},"pad":"${pad}"}`
  expect(Buffer.byteLength(text)).toBe(bytes)
  return Buffer.from(text)
}

/** Sends `count` forged requests over `connections` kept-alive sockets from `localAddress`; tallies the answers. */
async function flood(url: string, count: number, connections: number, localAddress: string) {
  const body = forgedBody(262_144)
  const signature = sign('not-the-secret', body)
  const answers = new Map<string, number>()
  const tally = (key: string) => answers.set(key, (answers.get(key) ?? 0) + 1)
  let sent = 0
  const one = () =>
    new Promise<void>((resolve) => {
      let settled = false
      const settle = (key: string) => {
        if (settled) return
        settled = true
        tally(key)
        resolve()
      }
      const req = request(
        url,
        {
          method: 'POST',
          localAddress,
          headers: { 'content-type': 'application/json', 'x-tlp-signature': signature },
        },
        (res) => {
          res.resume()
          res.on('end', () => settle(String(res.statusCode)))
          res.on('error', () => settle(String(res.statusCode)))
        },
      )
      // A refused request's connection is closed before its body is read: the write may fail after the answer.
      req.on('error', () => settle('reset'))
      // This attacker does not wait long for any answer.
      req.setTimeout(50, () => {
        settle('held')
        req.destroy()
      })
      req.end(body)
    })
  const worker = async () => {
    while (sent < count) {
      sent++
      await one()
    }
  }
  await Promise.all(Array.from({ length: connections }, worker))
  return answers
}

describe('a flood of forged 256 KB requests from one address', () => {
  it('every genuine callback sent meanwhile gets ok; no forgery is accepted; the flood ends up on the cheap path', async () => {
    const relay = await startRelay({
      TYLT_SECRET_CPG: SECRET,
      DATA_DIR: tempDir(),
      LOG_LEVEL: 'warn',
      SIGNATURE_JSON_FALLBACK: 'true',
    })
    const url = `${relay.url}/webhooks/cpg`
    let flooding = true
    const genuine: { status: number; body: string; outcome: string | null }[] = []
    const sendGenuine = async () => {
      for (let n = 0; flooding || n < 10; n++) {
        const body = JSON.stringify({
          type: 'pay-in',
          data: { orderId: `genuine-${n}`, status: 'Completed' },
        })
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-tlp-signature': sign(SECRET, body) },
          body,
        })
        genuine.push({
          status: res.status,
          body: await res.text(),
          outcome: res.headers.get('tylt-relay-outcome'),
        })
        await sleep(20)
      }
    }
    const genuineDone = sendGenuine()
    const answers = await flood(url, FORGED_COUNT, CONNECTIONS, ATTACKER)
    flooding = false
    await genuineDone

    expect(genuine.length).toBeGreaterThan(10)
    expect(genuine.filter((g) => g.status !== 200 || g.body !== 'ok' || g.outcome !== 'accepted')).toEqual([])
    // Forgeries: refused for their signature, or, once their source is penalised, refused before their body is
    // read (413; 503 under pressure), the connection closed under their write, or no answer within 50 ms.
    expect([...answers.values()].reduce((a, b) => a + b, 0)).toBe(FORGED_COUNT)
    expect(
      [...answers.keys()].filter((key) => !['401', '413', '503', 'reset', 'held'].includes(key)),
    ).toEqual([])
    const metrics = await relay.metrics()
    const overLimit = sample(metrics, 'tylt_relay_webhook_refusals_total', {
      reason: 'mismatch',
      over_limit: 'true',
    })
    const withinLimit = sample(metrics, 'tylt_relay_webhook_refusals_total', {
      reason: 'mismatch',
      over_limit: 'false',
    })
    // The source budget let at most its bytes (plus its refill over the run, plus the one that emptied it)
    // be refused in full: each forgery read costs its 256 KB at least.
    expect(withinLimit).toBeLessThanOrEqual(
      (ADMISSION.budgetBytes + 60 * ADMISSION.refillBytesPerSecond) / 262_144 + 1,
    )
    const shed = ['413', '503', 'reset', 'held'].reduce((n, key) => n + (answers.get(key) ?? 0), 0)
    expect((overLimit ?? 0) + shed).toBeGreaterThan(FORGED_COUNT / 2)
    expect(sample(metrics, 'tylt_relay_webhook_requests_total', { outcome: 'accepted' })).toBe(genuine.length)
    expect(await relay.stop()).toBe(0)
    // Senders that had gone are no error of the relay's: nothing but the refusals' own lines (at warn).
    expect(
      relay.stdout.filter((line) => /"level":(40|50|60)/.test(line) && !line.includes('"msg":"webhook"')),
    ).toEqual([])
    const events = await listEvents(relay.env)
    expect(events.map((e) => e.orderId).sort()).toEqual(genuine.map((_, n) => `genuine-${n}`).sort())
  }, 120_000)
})
