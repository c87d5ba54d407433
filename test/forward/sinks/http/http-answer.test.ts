import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { HttpSink } from '../../../../src/forward/sinks/http/http-sink.js'
import { makeEvents } from '../helpers.js'

/** A consumer that answers every request with `status` and `body`, and counts what it was sent. */
async function consumer(answer: (body: Buffer) => { status: number; body: string }) {
  const received: Buffer[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      received.push(body)
      const { status, body: text } = answer(body)
      res.statusCode = status
      res.end(text)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  onTestFinished(() => {
    server.closeAllConnections()
    server.close()
  })
  const { port } = server.address() as AddressInfo
  return { url: new URL(`http://127.0.0.1:${port}/hooks`), received }
}

describe('HTTP answers: permanent refusals told from outages', () => {
  it.each([
    [400, 'Bad Request'],
    [401, 'Unauthorized'],
    [403, 'Forbidden'],
    [404, 'Not Found'],
    [410, 'Gone'],
    [413, 'Payload Too Large'],
    [422, 'Unprocessable Entity'],
  ])('%i is permanent, recorded with its answer', async (status, text) => {
    const { url } = await consumer(() => ({ status, body: `{"error":"no ${status}"}` }))
    const result = await new HttpSink(url).send(makeEvents(1))
    expect(result).toEqual({
      delivered: 0,
      error: expect.objectContaining({ message: `HTTP ${status} ${text}: {"error":"no ${status}"}` }),
      permanent: true,
      answers: [{ status, text: `{"error":"no ${status}"}`, durationMs: expect.any(Number) }],
    })
  })

  it.each([408, 429, 500, 502, 503, 504, 409])(
    '%i is an outage: retried, not dead-lettered',
    async (status) => {
      const { url } = await consumer(() => ({ status, body: 'later' }))
      const result = await new HttpSink(url).send(makeEvents(1))
      expect(result.delivered).toBe(0)
      expect(result.error?.message).toMatch(new RegExp(`^HTTP ${status} .+: later$`))
      expect(result.permanent).toBeUndefined()
    },
  )

  it('a consumer with a 100 kB body limit refuses the one large event for good; the line stops there', async () => {
    // As an Express app with express.json({ limit: '100kb' }) answers.
    const { url, received } = await consumer((body) =>
      body.length > 100_000
        ? {
            status: 413,
            body: '<!DOCTYPE html><html><body><pre>PayloadTooLargeError: request entity too large</pre>',
          }
        : { status: 200, body: '' },
    )
    const events = makeEvents(3)
    const large = { ...events[1]!, body: Buffer.alloc(150_000, 0x61) }
    const result = await new HttpSink(url).send([events[0]!, large, events[2]!])
    expect(result.delivered).toBe(1)
    expect(result.permanent).toBe(true)
    expect(result.error?.message).toBe(
      'HTTP 413 Payload Too Large: <!DOCTYPE html><html><body><pre>PayloadTooLargeError: request entity too large</pre>',
    )
    // Nothing after the refused event was sent: the forwarder decides what comes next.
    expect(received.map((body) => body.length)).toEqual([events[0]!.body.length, 150_000])
  })

  it('keeps the recorded answer short, on one line, and free of the credentials sent', async () => {
    const { url } = await consumer(() => ({
      status: 400,
      body: `bad\r\nrequest\u0000 from relay:hunter2-pw (${Buffer.from('relay:hunter2-pw').toString('base64')}) ${'x'.repeat(5_000)}`,
    }))
    url.username = 'relay'
    url.password = 'hunter2-pw'
    const result = await new HttpSink(url).send(makeEvents(1))
    const message = result.error?.message ?? ''
    expect(message.startsWith('HTTP 400 Bad Request: bad request from relay:*** (***) xxx')).toBe(true)
    expect(message.length).toBeLessThanOrEqual(230)
    expect(message).not.toContain('hunter2')
    for (const control of ['\r', '\n', '\u0000']) expect(message).not.toContain(control)
    expect(message).not.toContain(Buffer.from('relay:hunter2-pw').toString('base64'))
  })

  it('an answer without a body is recorded by its status alone', async () => {
    const { url } = await consumer(() => ({ status: 410, body: '' }))
    const result = await new HttpSink(url).send(makeEvents(1))
    expect(result.error?.message).toBe('HTTP 410 Gone')
    expect(result.permanent).toBe(true)
  })
})

describe('HTTP answers kept with each attempt', () => {
  it('a 2xx answer is kept per event: its status, the start of its body, how long its request took', async () => {
    let n = 0
    const { url } = await consumer(() => ({ status: n++ === 0 ? 200 : 202, body: n === 1 ? 'ok 1' : '' }))
    const result = await new HttpSink(url).send(makeEvents(2))
    expect(result).toEqual({
      delivered: 2,
      answers: [
        { status: 200, text: 'ok 1', durationMs: expect.any(Number) },
        { status: 202, durationMs: expect.any(Number) },
      ],
    })
    for (const answer of result.answers ?? []) expect(answer.durationMs).toBeGreaterThanOrEqual(0)
  })

  it('keeps a 2xx answer short, on one line, and without the credentials sent', async () => {
    const secret = Buffer.from('relay:hunter2-pw').toString('base64')
    const { url } = await consumer(() => ({
      status: 200,
      body: `accepted\r\nfor relay:hunter2-pw (${secret}) ${'y'.repeat(200_000)}`,
    }))
    url.username = 'relay'
    url.password = 'hunter2-pw'
    const sink = new HttpSink(url)
    onTestFinished(() => sink.close())
    const result = await sink.send(makeEvents(3))
    expect(result.delivered).toBe(3)
    for (const answer of result.answers ?? []) {
      expect(answer.text?.startsWith('accepted for relay:*** (***) yyy')).toBe(true)
      expect(answer.text?.length).toBeLessThanOrEqual(201)
      expect(answer.text).not.toContain('hunter2')
      expect(answer.text).not.toContain(secret)
    }
  })
})
