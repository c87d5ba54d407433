import { createServer } from 'node:http'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect as natsConnect } from '@nats-io/transport-node'
import { connect as amqpConnect } from 'amqplib'
import { Redis } from 'ioredis'
import { describe, expect, it, onTestFinished } from 'vitest'
import { FIXTURE_METADATA } from '../event/fixture-metadata.js'
import { fixture } from '../helpers/fixtures.js'
import { eventually, SECRETS, sign, sleep, tempDir } from '../helpers/index.js'
import { post, startRelay } from '../helpers/relay-process.js'
import { freePort, uniqueName } from './sinks/helpers.js'

const NAMES = Object.keys(FIXTURE_METADATA)
const METADATA_NAMES = [
  'tylt-order-id',
  'tylt-merchant-order-id',
  'tylt-status',
  'tylt-product',
  'tylt-final',
  'tylt-recovered',
] as const

/** What a consumer must see for a fixture: the documented values, and no name for what is unknown. */
function expected(name: string): Record<string, string> {
  const m = FIXTURE_METADATA[name]!
  const values: Record<string, string | null> = {
    'tylt-order-id': m.orderId,
    'tylt-merchant-order-id': m.merchantOrderId,
    'tylt-status': m.status,
    'tylt-product': m.product,
    'tylt-final': m.final,
  }
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== null)) as Record<string, string>
}

/** The metadata names a message carries, as strings, whatever the downstream's value type. */
function metadataOf(read: (name: string) => unknown): Record<string, string> {
  const found: Record<string, string> = {}
  for (const name of METADATA_NAMES) {
    const value = read(name)
    if (value !== undefined && value !== null) found[name] = String(value)
  }
  return found
}

/** Sends every fixture, in order, to a relay forwarding to `forwardUrl`; returns once all got `ok`. */
async function relayEveryFixture(forwardUrl: string) {
  const relay = await startRelay({
    TYLT_SECRET_CPG: SECRETS.cpg,
    DATA_DIR: tempDir(),
    FORWARD_URL: forwardUrl,
  })
  for (const name of NAMES) {
    const body = fixture(name)
    expect(await post(`${relay.url}/webhooks/cpg`, body, sign(SECRETS.cpg, body))).toEqual({
      status: 200,
      body: 'ok',
    })
  }
  return relay
}

/** Each received message, in order, is the fixture sent in that place, with its documented metadata. */
function expectDocumented(received: { body: Buffer; metadata: Record<string, string> }[]) {
  expect(received.map((r) => r.body.toString('latin1'))).toEqual(
    NAMES.map((n) => fixture(n).toString('latin1')),
  )
  expect(Object.fromEntries(received.map((r, i) => [NAMES[i], r.metadata]))).toEqual(
    Object.fromEntries(NAMES.map((n) => [n, expected(n)])),
  )
}

describe('every fixture carries its documented metadata on every downstream', () => {
  it('HTTP', async () => {
    const received: { body: Buffer; metadata: Record<string, string> }[] = []
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        received.push({ body: Buffer.concat(chunks), metadata: metadataOf((n) => req.headers[n]) })
        res.writeHead(204).end()
      })
    })
    const port = await freePort()
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
    const relay = await relayEveryFixture(`http://127.0.0.1:${port}/tylt`)
    await eventually(
      async () => received.length,
      (n) => n >= NAMES.length,
    )
    await sleep(200)
    expectDocumented(received)
    expect(await relay.stop()).toBe(0)
  })

  it('Redis Streams', async () => {
    const stream = uniqueName('tylt-metadata')
    const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 })
    onTestFinished(async () => {
      await redis.del(stream).catch(() => undefined)
      redis.disconnect()
    })
    const relay = await relayEveryFixture(`redis://127.0.0.1:6379?stream=${stream}`)
    const read = async () =>
      (await redis.xrangeBuffer(stream, '-', '+')).map(([, fields]) => {
        const map = new Map<string, Buffer>()
        for (let i = 0; i < fields.length; i += 2) map.set(fields[i]!.toString(), fields[i + 1]!)
        return { body: map.get('body')!, metadata: metadataOf((n) => map.get(n)?.toString()) }
      })
    await eventually(read, (entries) => entries.length >= NAMES.length)
    await sleep(200)
    expectDocumented(await read())
    expect(await relay.stop()).toBe(0)
  })

  it('RabbitMQ', async () => {
    const exchange = uniqueName('tylt-metadata')
    const connection = await amqpConnect('amqp://guest:guest@127.0.0.1:5672')
    const channel = await connection.createChannel()
    onTestFinished(async () => {
      await channel.deleteExchange(exchange).catch(() => undefined)
      await connection.close().catch(() => undefined)
    })
    await channel.assertExchange(exchange, 'topic', { durable: false })
    const { queue } = await channel.assertQueue('', { exclusive: true })
    await channel.bindQueue(queue, exchange, 'tylt.#')
    const received: { body: Buffer; metadata: Record<string, string> }[] = []
    await channel.consume(
      queue,
      (m) => {
        if (m !== null)
          received.push({ body: m.content, metadata: metadataOf((n) => m.properties.headers?.[n]) })
      },
      { noAck: true },
    )
    const relay = await relayEveryFixture(`amqp://guest:guest@127.0.0.1:5672?exchange=${exchange}`)
    await eventually(
      async () => received.length,
      (n) => n >= NAMES.length,
    )
    await sleep(200)
    expectDocumented(received)
    expect(await relay.stop()).toBe(0)
  })

  it('NATS JetStream', async () => {
    const nc = await natsConnect({ servers: '127.0.0.1:4222' })
    const jsm = await jetstreamManager(nc)
    const name = uniqueName('tylt_metadata').replaceAll('-', '_')
    const subject = `tylt.metadata.${name}`
    await jsm.streams.add({ name, subjects: [subject] })
    onTestFinished(async () => {
      await jsm.streams.delete(name).catch(() => undefined)
      await nc.close()
    })
    const relay = await relayEveryFixture(`nats://127.0.0.1:4222?subject=${subject}`)
    const count = () => jsm.streams.info(name).then((info) => info.state.messages)
    expect(await eventually(count, (n) => n >= NAMES.length)).toBe(NAMES.length)
    const received = []
    for (let seq = 1; seq <= NAMES.length; seq++) {
      const message = (await jsm.streams.getMessage(name, { seq }))!
      received.push({
        body: Buffer.from(message.data),
        metadata: metadataOf((n) => (message.header.has(n) ? message.header.get(n) : undefined)),
      })
    }
    expectDocumented(received)
    expect(await relay.stop()).toBe(0)
  })
})
