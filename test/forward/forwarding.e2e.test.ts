import { createServer, type IncomingHttpHeaders } from 'node:http'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect as natsConnect } from '@nats-io/transport-node'
import { connect as amqpConnect } from 'amqplib'
import { Redis } from 'ioredis'
import { Webhook } from 'standardwebhooks'
import { describe, expect, it, onTestFinished } from 'vitest'
import { eventually, SECRETS, sign, sleep, tempDir } from '../helpers/index.js'
import { post, type RelayProcess, runCli, startRelay } from '../helpers/relay-process.js'
import { freePort, redisServerArgs, startProcess, stopProcess, uniqueName } from './sinks/helpers.js'

/** Distinct CPG-like callbacks, one per index, with non-ASCII text so that byte-exactness shows. */
const callback = (tag: string, i: number) =>
  Buffer.from(
    JSON.stringify({
      type: 'pay-in',
      data: { orderId: `${tag}-${i}`, merchantOrderId: `m-${tag}-${i}`, status: 'Completed', note: 'café ₹' },
    }),
  )

async function sendAll(relay: RelayProcess, bodies: readonly Buffer[]) {
  for (const body of bodies) {
    expect(await post(`${relay.url}/webhooks/cpg`, body, sign(SECRETS.cpg, body))).toEqual({
      status: 200,
      body: 'ok',
    })
  }
}

const relayEnv = (forwardUrl: string, extra: Record<string, string> = {}) => ({
  TYLT_SECRET_CPG: SECRETS.cpg,
  DATA_DIR: tempDir(),
  FORWARD_URL: forwardUrl,
  ...extra,
})

async function redisStream(url: string, stream: string) {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  redis.on('error', () => {}) // the outage tests stop this Redis on purpose
  onTestFinished(async () => {
    await redis.del(stream).catch(() => undefined)
    redis.disconnect()
  })
  return async () => {
    await redis.connect().catch(() => undefined)
    const entries = await redis.xrangeBuffer(stream, '-', '+')
    return entries.map(([, fields]) => {
      const map = new Map<string, Buffer>()
      for (let i = 0; i < fields.length; i += 2) map.set(fields[i]!.toString(), fields[i + 1]!)
      return map
    })
  }
}

/** An HTTP downstream answering 503 until the test sets `healthy`; records the bodies it accepted. */
async function flakyConsumer() {
  const consumer = { healthy: false, received: [] as string[], url: '' }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      if (consumer.healthy) consumer.received.push(Buffer.concat(chunks).toString())
      res.writeHead(consumer.healthy ? 200 : 503).end()
    })
  })
  const port = await freePort()
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
  consumer.url = `http://127.0.0.1:${port}/`
  return consumer
}

describe('forwarding through a running relay', () => {
  it('Redis Streams: N in, exactly N out, in order, byte-identical, with metadata', async () => {
    const stream = uniqueName('tylt-e2e')
    const read = await redisStream('redis://127.0.0.1:6379', stream)
    const relay = await startRelay(relayEnv(`redis://127.0.0.1:6379?stream=${stream}`))
    const bodies = Array.from({ length: 30 }, (_, i) => callback('r', i))
    await sendAll(relay, bodies)
    const entries = await eventually(read, (e) => e.length >= 30)
    await sleep(300)
    expect((await read()).length).toBe(30)
    entries.forEach((fields, i) => {
      expect(fields.get('body')!.equals(bodies[i]!)).toBe(true)
      expect(fields.get('tylt-service')!.toString()).toBe('cpg')
      expect(fields.get('tylt-signature')!.toString()).toBe(sign(SECRETS.cpg, bodies[i]!))
      expect(fields.get('tylt-order-id')!.toString()).toBe(`r-${i}`)
      expect(fields.get('tylt-merchant-order-id')!.toString()).toBe(`m-r-${i}`)
      expect(fields.get('tylt-status')!.toString()).toBe('Completed')
      expect(fields.get('webhook-id')!.toString()).toMatch(/^evt_[0-9a-f]{32}$/)
      expect(Number(fields.get('webhook-timestamp')!.toString())).toBeGreaterThan(1_700_000_000)
    })
    expect(new Set(entries.map((f) => f.get('webhook-id')!.toString())).size).toBe(30)
    expect(await relay.stop()).toBe(0)
  })

  it('RabbitMQ: persistent, confirmed, messageId = event id, routing key tylt.<service>', async () => {
    const exchange = uniqueName('tylt-e2e')
    const connection = await amqpConnect('amqp://guest:guest@127.0.0.1:5672')
    const channel = await connection.createChannel()
    onTestFinished(async () => {
      await channel.deleteExchange(exchange).catch(() => undefined)
      await connection.close().catch(() => undefined)
    })
    await channel.assertExchange(exchange, 'topic', { durable: false })
    const { queue } = await channel.assertQueue('', { exclusive: true })
    await channel.bindQueue(queue, exchange, 'tylt.cpg')
    const received: {
      body: Buffer
      messageId: string
      persistent: boolean
      headers: Record<string, unknown>
    }[] = []
    await channel.consume(
      queue,
      (m) => {
        if (m === null) return
        received.push({
          body: m.content,
          messageId: m.properties.messageId as string,
          persistent: m.properties.deliveryMode === 2,
          headers: m.properties.headers ?? {},
        })
      },
      { noAck: true },
    )
    const relay = await startRelay(relayEnv(`amqp://guest:guest@127.0.0.1:5672?exchange=${exchange}`))
    const bodies = Array.from({ length: 30 }, (_, i) => callback('a', i))
    await sendAll(relay, bodies)
    await eventually(
      async () => received.length,
      (n) => n >= 30,
    )
    await sleep(300)
    expect(received).toHaveLength(30)
    received.forEach((m, i) => {
      expect(m.body.equals(bodies[i]!)).toBe(true)
      expect(m.persistent).toBe(true)
      expect(m.messageId).toBe(String(m.headers['webhook-id']))
      expect(String(m.headers['tylt-order-id'])).toBe(`a-${i}`)
      expect(String(m.headers['tylt-service'])).toBe('cpg')
    })
    expect(await relay.stop()).toBe(0)
  })

  it('NATS JetStream: N in, N out, Nats-Msg-Id = event id; a replayed event stays one stream message', async () => {
    const nc = await natsConnect({ servers: '127.0.0.1:4222' })
    const jsm = await jetstreamManager(nc)
    const name = uniqueName('tylt_e2e').replaceAll('-', '_')
    const subject = `tylt.e2e.${name}`
    await jsm.streams.add({ name, subjects: [subject] })
    onTestFinished(async () => {
      await jsm.streams.delete(name).catch(() => undefined)
      await nc.close()
    })
    const env = relayEnv(`nats://127.0.0.1:4222?subject=${subject}`)
    const relay = await startRelay(env)
    const bodies = Array.from({ length: 20 }, (_, i) => callback('n', i))
    await sendAll(relay, bodies)
    const count = () => jsm.streams.info(name).then((info) => info.state.messages)
    expect(await eventually(count, (n) => n >= 20)).toBe(20)
    const first = await jsm.streams.getMessage(name, { seq: 1 })
    expect(Buffer.from(first!.data).equals(bodies[0]!)).toBe(true)
    const id = first!.header.get('Nats-Msg-Id')
    expect(first!.header.get('webhook-id')).toBe(id)
    // The same event sent again: replayed by the operator, so the relay forwards it a second time.
    expect((await runCli(['events', 'replay', id], env)).code).toBe(0)
    await eventually(
      async () =>
        JSON.parse(
          (await runCli(['events', 'list', '--state', 'pending', '--json'], env)).stdout,
        ) as unknown[],
      (pending) => pending.length === 0,
    )
    await sleep(300)
    expect(await count()).toBe(20)
    expect(await relay.stop()).toBe(0)
  })

  it('HTTP: the consumer verifies the Standard Webhooks signature with the standardwebhooks package', async () => {
    const secret = `whsec_${Buffer.from('a-32-byte-signing-key-for-tests!').toString('base64')}`
    const verifier = new Webhook(secret)
    const received: { body: Buffer; headers: IncomingHttpHeaders; verified: boolean }[] = []
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const body = Buffer.concat(chunks)
        let verified = false
        try {
          verifier.verify(body.toString('utf8'), req.headers as Record<string, string>)
          verified = true
        } catch {}
        received.push({ body, headers: req.headers, verified })
        res.writeHead(verified ? 204 : 400).end()
      })
    })
    const port = await freePort()
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
    const relay = await startRelay(
      relayEnv(`http://127.0.0.1:${port}/tylt`, { FORWARD_SIGNING_SECRET: secret }),
    )
    const bodies = Array.from({ length: 15 }, (_, i) => callback('h', i))
    await sendAll(relay, bodies)
    await eventually(
      async () => received.length,
      (n) => n >= 15,
    )
    await sleep(300)
    expect(received).toHaveLength(15)
    received.forEach((r, i) => {
      expect(r.verified).toBe(true)
      expect(r.body.equals(bodies[i]!)).toBe(true)
      expect(r.headers['tylt-order-id']).toBe(`h-${i}`)
      expect(r.headers['webhook-id']).toMatch(/^evt_/)
    })
    expect(await relay.stop()).toBe(0)
  })
})

describe('outages, crashes and dead letters', () => {
  it('keeps answering ok while its own Redis is down, and delivers everything once it is back', async () => {
    const port = await freePort()
    const args = redisServerArgs(port)
    let redis = await startProcess('redis-server', args, port)
    onTestFinished(() => stopProcess(redis))
    const stream = uniqueName('tylt-outage')
    const read = await redisStream(`redis://127.0.0.1:${port}`, stream)
    const relay = await startRelay(relayEnv(`redis://127.0.0.1:${port}?stream=${stream}`))
    const bodies = Array.from({ length: 30 }, (_, i) => callback('o', i))
    await sendAll(relay, bodies.slice(0, 10))
    await eventually(read, (e) => e.length >= 10)
    await stopProcess(redis)
    await sendAll(relay, bodies.slice(10))
    const ready = await fetch(`${relay.opsUrl}/readyz`)
    expect(ready.status).toBe(200)
    redis = await startProcess('redis-server', args, port)
    // The restarted Redis keeps nothing (no persistence): the stream now holds only what came after.
    const after = await eventually(read, (e) => e.length >= 20, 40_000)
    expect(after.map((f) => f.get('body')!.toString())).toEqual(bodies.slice(10).map((b) => b.toString()))
    expect(await relay.stop()).toBe(0)
  })

  it('delivers after restart what a SIGKILLed relay had accepted but not delivered', async () => {
    const port = await freePort()
    const stream = uniqueName('tylt-crash')
    const env = relayEnv(`redis://127.0.0.1:${port}?stream=${stream}`)
    const relay = await startRelay(env)
    const bodies = Array.from({ length: 20 }, (_, i) => callback('k', i))
    await sendAll(relay, bodies)
    expect(await relay.stop('SIGKILL')).toBe('SIGKILL')
    const pending = JSON.parse(
      (await runCli(['events', 'list', '--state', 'pending', '--json'], env)).stdout,
    ) as unknown[]
    expect(pending).toHaveLength(20)

    const redis = await startProcess('redis-server', redisServerArgs(port), port)
    onTestFinished(() => stopProcess(redis))
    const read = await redisStream(`redis://127.0.0.1:${port}`, stream)
    const restarted = await startRelay(env)
    const entries = await eventually(read, (e) => e.length >= 20)
    expect(entries.map((f) => f.get('body')!.toString())).toEqual(bodies.map((b) => b.toString()))
    expect(await restarted.stop()).toBe(0)
  })

  it('turns events into dead letters after RETRY_MAX_AGE, lists them, and delivers them on replay', async () => {
    const consumer = await flakyConsumer()
    const env = relayEnv(consumer.url, { RETRY_MAX_AGE: '2s' })
    const relay = await startRelay(env)
    const bodies = Array.from({ length: 5 }, (_, i) => callback('d', i))
    await sendAll(relay, bodies)
    const listDead = async () =>
      JSON.parse((await runCli(['events', 'list', '--state', 'dead', '--json'], env)).stdout) as {
        lastError: string
      }[]
    const dead = await eventually(listDead, (d) => d.length === 5, 20_000)
    expect(dead).toHaveLength(5)
    expect(dead[0]!.lastError).toContain('503')
    expect(consumer.received).toEqual([])
    consumer.healthy = true
    expect((await runCli(['events', 'replay', '--dead'], env)).stdout).toContain('queued 5')
    await eventually(
      async () => consumer.received.length,
      (n) => n >= 5,
    )
    expect(consumer.received).toEqual(bodies.map((b) => b.toString()))
    expect(await listDead()).toEqual([])
    expect(await relay.stop()).toBe(0)
  })

  it('on SIGTERM, keeps forwarding until the store is drained, then exits 0', async () => {
    const consumer = await flakyConsumer()
    const env = relayEnv(consumer.url, { SHUTDOWN_GRACE: '20s' })
    const relay = await startRelay(env)
    const bodies = Array.from({ length: 10 }, (_, i) => callback('t', i))
    await sendAll(relay, bodies)
    consumer.healthy = true
    const exit = await relay.stop('SIGTERM')
    expect(exit).toBe(0)
    expect(consumer.received).toEqual(bodies.map((b) => b.toString()))
    expect(relay.output()).toContain('"drained":true')
    expect(
      JSON.parse((await runCli(['events', 'list', '--state', 'pending', '--json'], env)).stdout),
    ).toEqual([])
  })
})
