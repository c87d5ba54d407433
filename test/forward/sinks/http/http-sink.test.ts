import { createHmac, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'
import { describe, expect, it, onTestFinished } from 'vitest'
import { HttpSink, parseSigningSecret } from '../../../../src/forward/sinks/http/http-sink.js'
import { freePort, makeEvents } from '../helpers.js'

interface Received {
  readonly method: string | undefined
  readonly url: string | undefined
  readonly headers: IncomingHttpHeaders
  readonly body: Buffer
}

/** A real consumer: records every request and answers with `answer(index)`. */
async function startConsumer(answer: (index: number) => number = () => 204) {
  const received: Received[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks) })
      res.statusCode = answer(received.length - 1)
      res.end('secret downstream detail')
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const { port } = server.address() as AddressInfo
  return { received, url: new URL(`http://127.0.0.1:${port}/hooks/tylt?x=1`), server }
}

function header(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name]
  if (typeof value !== 'string') throw new Error(`missing header ${name}`)
  return value
}

describe('HttpSink', () => {
  it('says who sends the request, User-Agent: tylt-relay/<version>, and sends nothing a browser would', async () => {
    const raw: string[][] = []
    const server = createServer((req, res) => {
      raw.push(req.rawHeaders)
      req.resume()
      req.on('end', () => res.writeHead(204).end())
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
    const { port } = server.address() as AddressInfo
    const sink = new HttpSink(new URL(`http://127.0.0.1:${port}/tylt`))
    onTestFinished(() => sink.close())
    const [event] = makeEvents(1)
    expect(await sink.send([{ ...event!, recovered: 'quarantine' }])).toMatchObject({ delivered: 1 })
    const names = raw[0]!.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase())
    expect(names.sort()).toEqual([
      'connection',
      'content-length',
      'content-type',
      'host',
      'tylt-accepted-at',
      'tylt-final',
      'tylt-merchant-order-id',
      'tylt-order-id',
      'tylt-product',
      'tylt-recovered',
      'tylt-service',
      'tylt-signature',
      'tylt-status',
      'user-agent',
      'webhook-id',
      'webhook-timestamp',
    ])
    const { version } = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8'))
    const value = (name: string) => raw[0]![raw[0]!.findIndex((n) => n.toLowerCase() === name) + 1]
    expect(value('user-agent')).toBe(`tylt-relay/${version}`)
    expect(value('connection')).toBe('keep-alive')
  })

  it('POSTs every event once, in order, byte-exact, with its metadata', async () => {
    const consumer = await startConsumer()
    const sink = new HttpSink(consumer.url)
    const events = makeEvents(6)
    expect(await sink.send(events)).toMatchObject({ delivered: 6 })
    expect(consumer.received).toHaveLength(6)
    for (const [index, request] of consumer.received.entries()) {
      const event = events[index]!
      expect(request.method).toBe('POST')
      expect(request.url).toBe('/hooks/tylt?x=1')
      expect(request.body.equals(event.body)).toBe(true)
      expect(request.headers['webhook-id']).toBe(event.id)
      expect(request.headers['webhook-timestamp']).toBe(String(Math.floor(event.acceptedAt / 1000)))
      expect(request.headers['tylt-accepted-at']).toBe(String(Math.floor(event.acceptedAt / 1000)))
      expect(request.headers['tylt-service']).toBe('prime-upi')
      expect(request.headers['tylt-signature']).toBe(event.signature)
      expect(request.headers['tylt-order-id']).toBe(event.orderId ?? undefined)
      expect(request.headers['tylt-merchant-order-id']).toBe(event.merchantOrderId ?? undefined)
      expect(request.headers['tylt-status']).toBe(event.status ?? undefined)
      expect(request.headers).not.toHaveProperty('webhook-signature')
      expect(request.headers).not.toHaveProperty('authorization')
    }
    expect(consumer.received.map((r) => r.headers['content-type'])).toEqual([
      'application/json',
      'application/json',
      'application/octet-stream',
      'application/octet-stream',
      'application/json',
      'application/json',
    ])
  })

  it('signs so that a Standard Webhooks library verifies, with the attempt time as webhook-timestamp', async () => {
    const consumer = await startConsumer()
    const secret = `whsec_${randomBytes(32).toString('base64')}`
    const sink = new HttpSink(consumer.url, { signingSecret: parseSigningSecret(secret) })
    // Accepted long ago: a verifier would reject this acceptance time as a replay. Text bodies only: the
    // standardwebhooks package decodes a Buffer as UTF-8 before signing, so it cannot check binary bodies
    // (the next test checks those against the spec's byte-level HMAC).
    const events = makeEvents(3)
      .filter((_event, index) => index !== 2)
      .map((event) => ({ ...event, acceptedAt: Date.now() - 6 * 3600_000 }))
    expect(await sink.send(events)).toMatchObject({ delivered: 2 })
    expect(consumer.received).toHaveLength(2)
    const webhook = new Webhook(secret)
    for (const [index, request] of consumer.received.entries()) {
      const headers = {
        'webhook-id': header(request.headers, 'webhook-id'),
        'webhook-timestamp': header(request.headers, 'webhook-timestamp'),
        'webhook-signature': header(request.headers, 'webhook-signature'),
      }
      expect(() => webhook.verify(request.body, headers, { jsonParse: false })).not.toThrow()
      expect(Math.abs(Number(headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60)
      expect(request.headers['tylt-accepted-at']).toBe(String(Math.floor(events[index]!.acceptedAt / 1000)))
      // A tampered body must not verify: the signature really covers the bytes.
      expect(() => webhook.verify(Buffer.concat([request.body, Buffer.from(' ')]), headers)).toThrow(
        /signature/,
      )
    }
    const other = new Webhook(`whsec_${randomBytes(32).toString('base64')}`)
    const first = consumer.received[0]!
    expect(() =>
      other.verify(first.body, {
        'webhook-id': header(first.headers, 'webhook-id'),
        'webhook-timestamp': header(first.headers, 'webhook-timestamp'),
        'webhook-signature': header(first.headers, 'webhook-signature'),
      }),
    ).toThrow(/No matching signature/)
  })

  it('signs the exact bytes of a binary body', async () => {
    const consumer = await startConsumer()
    const key = randomBytes(24)
    const sink = new HttpSink(consumer.url, { signingSecret: key, now: () => 1_800_000_000_500 })
    const event = makeEvents(3)[2]!
    expect(await sink.send([event])).toMatchObject({ delivered: 1 })
    const request = consumer.received[0]!
    expect(request.body.equals(event.body)).toBe(true)
    const expected = createHmac('sha256', key)
      .update(`${event.id}.1800000000.`)
      .update(event.body)
      .digest('base64')
    expect(request.headers['webhook-timestamp']).toBe('1800000000')
    expect(request.headers['webhook-signature']).toBe(`v1,${expected}`)
  })

  it('stops at the first non-2xx answer and reports the prefix, with the answer, as an outage', async () => {
    const consumer = await startConsumer((index) => (index === 2 ? 503 : 200))
    const sink = new HttpSink(consumer.url)
    const result = await sink.send(makeEvents(5))
    expect(result.delivered).toBe(2)
    expect(result.error?.message).toBe('HTTP 503 Service Unavailable: secret downstream detail')
    expect(result.permanent).toBeUndefined()
    // Nothing after the failure was attempted, so order is kept when the forwarder retries from index 2.
    expect(consumer.received).toHaveLength(3)
  })

  it('treats a redirect as a failure rather than following it', async () => {
    const consumer = await startConsumer(() => 302)
    const result = await new HttpSink(consumer.url).send(makeEvents(1))
    expect(result).toMatchObject({
      delivered: 0,
      error: { message: expect.stringContaining('HTTP 302 Found') },
    })
    expect(result.permanent).toBeUndefined()
    expect(consumer.received).toHaveLength(1)
  })

  it('fails within the timeout when the consumer never answers', async () => {
    const server = createServer(() => undefined)
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    onTestFinished(() => {
      server.closeAllConnections()
      server.close()
    })
    const { port } = server.address() as AddressInfo
    const sink = new HttpSink(new URL(`http://127.0.0.1:${port}/`), { timeoutMs: 300 })
    const started = Date.now()
    const result = await sink.send(makeEvents(2))
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(result.delivered).toBe(0)
    expect(result.error?.message).toMatch(/within 300 ms/)
  })

  it('fails fast on a refused connection', async () => {
    const sink = new HttpSink(new URL(`http://127.0.0.1:${await freePort()}/`))
    const result = await sink.send(makeEvents(1))
    expect(result.delivered).toBe(0)
    expect(result.error?.message).toMatch(/ECONNREFUSED/)
    expect(result.permanent).toBeUndefined()
  })

  it('stops a request in flight when told to, reporting what was confirmed before it', async () => {
    // The first request is answered, the second never: only the abort can end the send.
    const server = createServer((req, res) => {
      if (String(req.headers['webhook-id']).endsWith('_0')) res.end()
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    onTestFinished(() => {
      server.closeAllConnections()
      server.close()
    })
    const { port } = server.address() as AddressInfo
    const sink = new HttpSink(new URL(`http://127.0.0.1:${port}/`), { timeoutMs: 20_000 })
    const stop = new AbortController()
    setTimeout(() => stop.abort(), 300)
    const started = Date.now()
    const result = await sink.send(makeEvents(3), stop.signal)
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(result.delivered).toBe(1)
    expect(result.error?.message).toMatch(/sending was stopped/)
    expect(result.permanent).toBeUndefined()
  })

  it('sends nothing once the signal has fired', async () => {
    const consumer = await startConsumer()
    const result = await new HttpSink(consumer.url).send(makeEvents(2), AbortSignal.abort())
    expect(result.delivered).toBe(0)
    expect(result.error?.message).toMatch(/sending was stopped/)
    expect(consumer.received).toHaveLength(0)
  })

  it('warns at start when nothing accepts connections at the target, and sends no request', async () => {
    const port = await freePort()
    const down = new HttpSink(new URL(`http://user:pw@127.0.0.1:${port}/hooks`))
    const warning = await down.check()
    expect(warning).toBe(
      `HTTP downstream http://user:***@127.0.0.1:${port}/hooks refuses connections (ECONNREFUSED 127.0.0.1:${port})`,
    )
    const consumer = await startConsumer()
    expect(await new HttpSink(consumer.url).check()).toBeUndefined()
    expect(consumer.received).toHaveLength(0)
  })

  it('sends URL credentials as Basic auth and keeps the password out of target', async () => {
    const consumer = await startConsumer()
    const url = new URL(consumer.url)
    url.username = 'relay'
    url.password = 'p@ss word'
    const sink = new HttpSink(url)
    expect(sink.target).not.toContain('p%40ss')
    expect(await sink.send(makeEvents(1))).toMatchObject({ delivered: 1 })
    const expected = `Basic ${Buffer.from('relay:p@ss word').toString('base64')}`
    expect(consumer.received[0]?.headers.authorization).toBe(expected)
  })
})

describe('parseSigningSecret', () => {
  it('decodes whsec_<base64>', () => {
    const key = randomBytes(32)
    expect(parseSigningSecret(`whsec_${key.toString('base64')}`).equals(key)).toBe(true)
  })

  it.each([
    ['no prefix', randomBytes(32).toString('base64'), /whsec_<base64>/],
    ['not base64', 'whsec_not*base64!!', /not valid base64/],
    ['too short', `whsec_${randomBytes(8).toString('base64')}`, /24 to 64 bytes/],
  ])('rejects %s without echoing it', (_name, secret, message) => {
    let error: unknown
    try {
      parseSigningSecret(secret)
    } catch (err) {
      error = err
    }
    expect((error as Error).message).toMatch(message)
    expect((error as Error).message).not.toContain(secret.slice(6, 14))
  })
})
