import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import pino from 'pino'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { EventStore } from '../../src/core/event-store.js'
import { Forwarder } from '../../src/forward/forwarder.js'
import { HttpSink } from '../../src/forward/sinks/http/http-sink.js'
import { eventually } from '../helpers/index.js'
import { buildConsoleApp, payIn, TOKEN } from './console-test-app.js'

const bearer = { authorization: `Bearer ${TOKEN}` }

/** A real HTTP consumer answering the nth request (from 0) with `statuses[n]`, then 200; its body says which. */
async function consumer(statuses: readonly number[]) {
  let n = 0
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      const status = statuses[n] ?? 200
      res.statusCode = status
      res.end(status === 200 ? `{"received":${n}}` : 'try later')
      n++
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  onTestFinished(() => {
    server.closeAllConnections()
    server.close()
  })
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`)
}

/** Forwards the store's pending events to `url` with a real HttpSink, retrying after 20 ms. */
function forwardTo(store: EventStore, url: URL) {
  const forwarder = new Forwarder({
    store,
    sink: new HttpSink(url),
    logger: pino({ level: 'silent' }),
    retryMaxAgeMs: 60_000,
    backoffBaseMs: 20,
    backoffMaxMs: 40,
    idlePollMs: 20,
  })
  forwarder.start()
  onTestFinished(() => forwarder.stop(0).then(() => undefined))
}

describe("an event's page lists every attempt", () => {
  it('a delivered event: its successful attempt with status 200, a duration and the answer, in the API and the page', async () => {
    const app = await buildConsoleApp()
    await app.accept(payIn('ORD-OK-1'))
    const [event] = await app.store.list({ limit: 1 })
    forwardTo(app.store, await consumer([]))
    await eventually(
      async () => (await app.store.get(event!.id))?.state,
      (state) => state === 'delivered',
    )
    const answer = await app.ops.inject({
      method: 'GET',
      url: `/console/api/events/${event!.id}`,
      headers: bearer,
    })
    expect(answer.statusCode).toBe(200)
    const { attempts } = answer.json()
    expect(attempts).toEqual([
      {
        at: expect.any(Number),
        downstream: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/hooks$/),
        outcome: 'delivered',
        durationMs: expect.any(Number),
        status: 200,
        answer: '{"received":0}',
        error: null,
      },
    ])
    expect(attempts[0].durationMs).toBeGreaterThanOrEqual(0)

    const page = await app.ops.inject({ method: 'GET', url: `/console/events/${event!.id}`, headers: bearer })
    expect(page.statusCode).toBe(200)
    const row = /<tr class="attempt-delivered">([\s\S]*?)<\/tr>/.exec(page.body)?.[1] ?? ''
    expect(row).toContain('<td data-label="Status">200</td>')
    expect(row).toMatch(/<td data-label="Duration">\d+ ms<\/td>/)
    expect(row).toContain('<td data-label="Answer">{&quot;received&quot;:0}</td>')
    expect(page.body).not.toContain('attempt-failed')
  })

  it('an event answered 500 twice, then 200: three attempts in order, each with its status', async () => {
    const app = await buildConsoleApp()
    await app.accept(payIn('ORD-RETRY-1'))
    await app.accept(payIn('ORD-AFTER-1'))
    const [after, first] = await app.store.list({ limit: 2 })
    forwardTo(app.store, await consumer([500, 500]))
    await eventually(
      async () => (await app.store.stats()).pending,
      (pending) => pending === 0,
    )
    const attemptsOf = async (id: string) =>
      (await app.ops.inject({ method: 'GET', url: `/console/api/events/${id}`, headers: bearer })).json()
        .attempts as { at: number; outcome: string; status: number; answer: string; error: string | null }[]
    const attempts = await attemptsOf(first!.id)
    expect(attempts.map((a) => [a.outcome, a.status, a.answer])).toEqual([
      ['failed', 500, 'try later'],
      ['failed', 500, 'try later'],
      ['delivered', 200, '{"received":2}'],
    ])
    expect(attempts.map((a) => a.error)).toEqual([
      'HTTP_500: HTTP 500 Internal Server Error: try later',
      'HTTP_500: HTTP 500 Internal Server Error: try later',
      null,
    ])
    expect(attempts.map((a) => a.at)).toEqual([...attempts.map((a) => a.at)].sort((x, y) => x - y))
    // The event behind it was never sent before the line moved: one attempt, delivered.
    expect((await attemptsOf(after!.id)).map((a) => [a.outcome, a.status])).toEqual([['delivered', 200]])
    expect(await app.store.get(first!.id)).toMatchObject({ state: 'delivered', attempts: 3 })
  })
})
