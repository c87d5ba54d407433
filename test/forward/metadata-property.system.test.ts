import { createServer } from 'node:http'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect as natsConnect } from '@nats-io/transport-node'
import { connect as amqpConnect } from 'amqplib'
import fc from 'fast-check'
import { Redis } from 'ioredis'
import { describe, expect, it, onTestFinished } from 'vitest'
import { exact } from '../../src/event/read-path.js'
import { bodyWith, metadataValue, READ_FIELDS } from '../event/metadata-values.js'
import { eventually, SECRETS, sign, tempDir } from '../helpers/index.js'
import { post, runCli, startRelay } from '../helpers/relay-process.js'
import { freePort, uniqueName } from './sinks/helpers.js'

interface Received {
  readonly body: Buffer
  readonly read: (name: string) => string | undefined
}

// Few runs: each is a callback through a real relay and broker. The in-process property runs thousands.
const RUNS = 12
const LOOKALIKES = ['ORD-1', 'ORD-\u00f11', 'ORD-1\u200b', 'ORD-\u00a01', ' ORD-1', 'ORD-\u65e5\u672c1']

/** Bodies with random values where the metadata is read, and ids that differ only in what a header hides. */
function bodies(seed: number): Buffer[] {
  const random = fc.sample(fc.tuple(metadataValue, metadataValue, metadataValue), { seed, numRuns: RUNS })
  const values = [...random, ...LOOKALIKES.map((id) => ['o', id, 'Completed'] as const)]
  return values.map(([o, m, s], n) => Buffer.from(bodyWith(o, m, s, n)))
}

/** Sends every body to a relay forwarding to `forwardUrl`; returns once all got `ok`. */
async function relayAll(forwardUrl: string, sent: readonly Buffer[]) {
  const dataDir = tempDir()
  const relay = await startRelay({ TYLT_SECRET_CPG: SECRETS.cpg, DATA_DIR: dataDir, FORWARD_URL: forwardUrl })
  for (const body of sent)
    expect(await post(`${relay.url}/webhooks/cpg`, body, sign(SECRETS.cpg, body))).toEqual({
      status: 200,
      body: 'ok',
    })
  return { relay, dataDir }
}

/** Every message is a sent body, each sent once; each metadata name is the body's value exactly, or absent. */
function expectExactOrAbsent(sent: readonly Buffer[], received: readonly Received[]) {
  expect(received.map((r) => r.body.toString('base64')).sort()).toEqual(
    sent.map((b) => b.toString('base64')).sort(),
  )
  let present = 0
  for (const message of received) {
    const data = (JSON.parse(message.body.toString('utf8')) as { data: Record<string, unknown> }).data
    for (const [name, field] of READ_FIELDS) {
      const value = message.read(name)
      if (value !== undefined) present++
      expect([undefined, String(data[field])], `${name} of ${JSON.stringify(data)}`).toContain(value)
    }
  }
  // The ids and statuses that are plain ASCII, at least, travel.
  expect(present).toBeGreaterThan(LOOKALIKES.length)
}

describe('metadata on every downstream is the body value exactly, or absent (random values)', () => {
  it('HTTP; and `events list --order` finds every original id', async () => {
    const sent = bodies(1)
    const received: Received[] = []
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const headers = req.headers
        received.push({ body: Buffer.concat(chunks), read: (n) => headers[n] as string | undefined })
        res.writeHead(204).end()
      })
    })
    const port = await freePort()
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
    const { relay, dataDir } = await relayAll(`http://127.0.0.1:${port}/tylt`, sent)
    await eventually(
      async () => received.length,
      (n) => n >= sent.length,
    )
    expectExactOrAbsent(sent, received)
    expect(await relay.stop()).toBe(0)

    for (const body of sent) {
      const original = (JSON.parse(body.toString('utf8')) as { data: { merchantOrderId: unknown } }).data
        .merchantOrderId
      const id = exact(original)
      // A value no store or command line can hold as it is (NUL, an unpaired surrogate, over the length bound).
      if (id === null) continue
      const { code, stdout, stderr } = await runCli(['events', 'list', '--json', `--order=${id}`], {
        DATA_DIR: dataDir,
      })
      expect([code, stderr]).toEqual([0, ''])
      const found = JSON.parse(stdout) as { merchantOrderId: string }[]
      expect(
        found.map((e) => e.merchantOrderId),
        JSON.stringify(id),
      ).toContain(id)
    }
  })

  it('Redis Streams', async () => {
    const sent = bodies(2)
    const stream = uniqueName('tylt-metadata-property')
    const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 })
    onTestFinished(async () => {
      await redis.del(stream).catch(() => undefined)
      redis.disconnect()
    })
    const { relay } = await relayAll(`redis://127.0.0.1:6379?stream=${stream}`, sent)
    const read = async () =>
      (await redis.xrangeBuffer(stream, '-', '+')).map(([, fields]): Received => {
        const map = new Map<string, Buffer>()
        for (let i = 0; i < fields.length; i += 2) map.set(fields[i]!.toString(), fields[i + 1]!)
        return { body: map.get('body')!, read: (n) => map.get(n)?.toString('utf8') }
      })
    await eventually(read, (entries) => entries.length >= sent.length)
    expectExactOrAbsent(sent, await read())
    expect(await relay.stop()).toBe(0)
  })

  it('RabbitMQ', async () => {
    const sent = bodies(3)
    const exchange = uniqueName('tylt-metadata-property')
    const connection = await amqpConnect('amqp://guest:guest@127.0.0.1:5672')
    const channel = await connection.createChannel()
    onTestFinished(async () => {
      await channel.deleteExchange(exchange).catch(() => undefined)
      await connection.close().catch(() => undefined)
    })
    await channel.assertExchange(exchange, 'topic', { durable: false })
    const { queue } = await channel.assertQueue('', { exclusive: true })
    await channel.bindQueue(queue, exchange, 'tylt.#')
    const received: Received[] = []
    await channel.consume(
      queue,
      (m) => {
        if (m === null) return
        const headers = m.properties.headers ?? {}
        received.push({ body: m.content, read: (n) => (n in headers ? String(headers[n]) : undefined) })
      },
      { noAck: true },
    )
    const { relay } = await relayAll(`amqp://guest:guest@127.0.0.1:5672?exchange=${exchange}`, sent)
    await eventually(
      async () => received.length,
      (n) => n >= sent.length,
    )
    expectExactOrAbsent(sent, received)
    expect(await relay.stop()).toBe(0)
  })

  it('NATS JetStream', async () => {
    const sent = bodies(4)
    const nc = await natsConnect({ servers: '127.0.0.1:4222' })
    const jsm = await jetstreamManager(nc)
    const name = uniqueName('tylt_metadata_property').replaceAll('-', '_')
    const subject = `tylt.metadata.${name}`
    await jsm.streams.add({ name, subjects: [subject] })
    onTestFinished(async () => {
      await jsm.streams.delete(name).catch(() => undefined)
      await nc.close()
    })
    const { relay } = await relayAll(`nats://127.0.0.1:4222?subject=${subject}`, sent)
    const count = () => jsm.streams.info(name).then((info) => info.state.messages)
    expect(await eventually(count, (n) => n >= sent.length)).toBe(sent.length)
    const received: Received[] = []
    for (let seq = 1; seq <= sent.length; seq++) {
      const message = (await jsm.streams.getMessage(name, { seq }))!
      const header = message.header
      received.push({
        body: Buffer.from(message.data),
        read: (n) => (header.has(n) ? header.get(n) : undefined),
      })
    }
    expectExactOrAbsent(sent, received)
    expect(await relay.stop()).toBe(0)
  })
})
