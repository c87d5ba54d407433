import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Redis } from 'ioredis'
import { describe, expect, it, onTestFinished } from 'vitest'
import { describeFailure } from '../../../src/core/describe-failure.js'
import type { Sink } from '../../../src/core/sink.js'
import { AmqpSink } from '../../../src/forward/sinks/amqp/amqp-sink.js'
import { HttpSink } from '../../../src/forward/sinks/http/http-sink.js'
import { NatsSink } from '../../../src/forward/sinks/nats/nats-sink.js'
import { RedisSink } from '../../../src/forward/sinks/redis/redis-sink.js'
import { freePort, makeEvents, uniqueName } from './helpers.js'

/** The code the forwarder logs and stores for one send's failure, and whether it was permanent. */
async function failureOf(sink: Sink): Promise<{ code: string; permanent: boolean }> {
  onTestFinished(() => sink.close())
  const result = await sink.send(makeEvents(1))
  expect(result.delivered).toBe(0)
  return { code: describeFailure(result.error).code, permanent: result.permanent === true }
}

const SINKS_AT: Record<string, (port: number) => Sink> = {
  http: (port) => new HttpSink(new URL(`http://127.0.0.1:${port}/tylt`), { timeoutMs: 3_000 }),
  redis: (port) =>
    new RedisSink({
      url: `redis://127.0.0.1:${port}`,
      stream: 's',
      redacted: `redis://127.0.0.1:${port}`,
      timeoutMs: 3_000,
    }),
  amqp: (port) =>
    new AmqpSink({
      url: `amqp://guest:guest@127.0.0.1:${port}`,
      exchange: 'tylt',
      routingKey: null,
      redacted: `amqp://127.0.0.1:${port}`,
      timeoutMs: 3_000,
    }),
  nats: (port) =>
    new NatsSink({
      server: `127.0.0.1:${port}`,
      subject: 's',
      redacted: `nats://127.0.0.1:${port}`,
      timeoutMs: 3_000,
    }),
}

describe('delivery failure codes: one vocabulary across downstreams', () => {
  it.each(Object.keys(SINKS_AT))('%s at a closed port: ECONNREFUSED', async (kind) => {
    const port = await freePort()
    expect(await failureOf(SINKS_AT[kind]!(port))).toEqual({ code: 'ECONNREFUSED', permanent: false })
  })

  it('http: an answer is HTTP_<status>, permanent or not as the table says', async () => {
    const statuses = [503, 413]
    const server = createServer((req, res) => {
      req.resume()
      res.writeHead(statuses.shift() ?? 500).end()
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
    const { port } = server.address() as AddressInfo
    expect(await failureOf(SINKS_AT.http!(port))).toEqual({ code: 'HTTP_503', permanent: false })
    expect(await failureOf(SINKS_AT.http!(port))).toEqual({ code: 'HTTP_413', permanent: true })
  })

  it('redis: an error reply (WRONGTYPE) is REFUSED_BY_BROKER', async () => {
    const stream = uniqueName('tylt-codes')
    const redis = new Redis('redis://127.0.0.1:6379')
    onTestFinished(async () => {
      await redis.del(stream)
      redis.disconnect()
    })
    await redis.set(stream, 'not a stream')
    const sink = new RedisSink({ url: 'redis://127.0.0.1:6379', stream, redacted: 'redis://127.0.0.1:6379' })
    expect(await failureOf(sink)).toEqual({ code: 'REFUSED_BY_BROKER', permanent: false })
  })

  it('amqp: a missing exchange is REFUSED_BY_BROKER', async () => {
    const sink = new AmqpSink({
      url: 'amqp://guest:guest@127.0.0.1:5672',
      exchange: uniqueName('tylt-missing'),
      routingKey: null,
      redacted: 'amqp://127.0.0.1:5672',
    })
    expect(await failureOf(sink)).toEqual({ code: 'REFUSED_BY_BROKER', permanent: false })
  })

  it('nats: a subject no stream captures is REFUSED_BY_BROKER', async () => {
    const sink = new NatsSink({
      server: '127.0.0.1:4222',
      subject: `${uniqueName('tylt-nowhere')}.events`,
      redacted: 'nats://127.0.0.1:4222',
      timeoutMs: 3_000,
    })
    expect(await failureOf(sink)).toEqual({ code: 'REFUSED_BY_BROKER', permanent: false })
  })
})
