import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { type Channel, type ChannelModel, connect, type GetMessage } from 'amqplib'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import type { RelayEvent } from '../../../../src/core/event.js'
import { AmqpSink } from '../../../../src/forward/sinks/amqp/amqp-sink.js'
import { freePort, freeze, makeEvents, sleep, uniqueName } from '../helpers.js'
import { type PrivateRabbit, startPrivateRabbit } from './private-rabbitmq.js'

const SHARED = 'amqp://guest:guest@127.0.0.1:5672'
const run = promisify(execFile)

let admin: ChannelModel
let channel: Channel

beforeAll(async () => {
  admin = await connect(SHARED)
  channel = await admin.createChannel()
})
afterAll(() => admin.close())

/** A topic exchange with one queue bound to `binding`, both removed after the test. */
async function topology(binding = 'tylt.#'): Promise<{ exchange: string; queue: string }> {
  const exchange = uniqueName('tylt-test-x')
  const queue = uniqueName('tylt-test-q')
  await channel.assertExchange(exchange, 'topic', { durable: false, autoDelete: false })
  await channel.assertQueue(queue, { durable: false, exclusive: false })
  await channel.bindQueue(queue, exchange, binding)
  onTestFinished(async () => {
    await channel.deleteQueue(queue)
    await channel.deleteExchange(exchange)
  })
  return { exchange, queue }
}

function sinkFor(
  exchange: string,
  extra: { routingKey?: string; url?: string; name?: string } = {},
): AmqpSink {
  const url = extra.url ?? SHARED
  const sink = new AmqpSink({
    url,
    exchange,
    routingKey: extra.routingKey ?? null,
    redacted: url,
    timeoutMs: 5_000,
    connectionName: extra.name ?? uniqueName('tylt-relay-test'),
  })
  onTestFinished(() => sink.close())
  return sink
}

/** Everything in the queue, as a plain consumer sees it. */
async function drain(queue: string): Promise<GetMessage[]> {
  const messages: GetMessage[] = []
  for (;;) {
    const message = await channel.get(queue, { noAck: true })
    if (message === false) return messages
    messages.push(message)
  }
}

function expectMessages(messages: GetMessage[], events: readonly RelayEvent[], routingKey?: string): void {
  expect(messages.map((m) => m.properties.messageId)).toEqual(events.map((e) => e.id))
  for (const [index, message] of messages.entries()) {
    const event = events[index]!
    expect(message.content.equals(event.body)).toBe(true)
    expect(message.fields.routingKey).toBe(routingKey ?? `tylt.${event.service}`)
    expect(message.properties.deliveryMode).toBe(2)
    expect(message.properties.timestamp).toBe(Math.floor(event.acceptedAt / 1000))
    expect(message.properties.contentType).toMatch(/^application\/(json|octet-stream)$/)
    expect(message.properties.headers).toMatchObject({
      'webhook-id': event.id,
      'webhook-timestamp': String(Math.floor(event.acceptedAt / 1000)),
      'tylt-service': event.service,
      'tylt-signature': event.signature,
    })
    expect(message.properties.headers?.['tylt-order-id']).toBe(event.orderId ?? undefined)
  }
}

/** Closes, from the broker side, the connection whose client-provided name is `name`. */
async function closeConnectionNamed(name: string): Promise<void> {
  // The table output carries pids in the form close_connection accepts (the JSON output does not).
  const { stdout } = await run('rabbitmqctl', ['list_connections', 'pid', 'client_properties', '-q', '-s'])
  const line = stdout.split('\n').find((row) => row.includes(`{"connection_name","${name}"}`))
  const pid = line?.split('\t')[0]
  if (pid === undefined) throw new Error(`no connection named ${name}`)
  await run('rabbitmqctl', ['close_connection', pid, 'test: forced close'])
}

describe('AmqpSink', () => {
  it('publishes every event once, in order, persistent and byte-exact, with metadata', async () => {
    const { exchange, queue } = await topology()
    const sink = sinkFor(exchange)
    const events = [...makeEvents(4, 'prime-upi'), ...makeEvents(3, 'card')]
    expect(await sink.send(events)).toEqual({ delivered: 7 })
    expect(await sink.send([])).toEqual({ delivered: 0 })
    expectMessages(await drain(queue), events)
  })

  it('uses a fixed routing key when the URL gives one', async () => {
    const { exchange, queue } = await topology('payments.in')
    const events = makeEvents(2)
    expect(await sinkFor(exchange, { routingKey: 'payments.in' }).send(events)).toEqual({ delivered: 2 })
    expectMessages(await drain(queue), events, 'payments.in')
  })

  it('counts an unroutable message as a failure, with the routed prefix delivered', async () => {
    const { exchange, queue } = await topology('tylt.prime-upi')
    const events = [
      ...makeEvents(2, 'prime-upi'),
      ...makeEvents(1, 'nobody-listens'),
      ...makeEvents(1, 'prime-upi'),
    ]
    const result = await sinkFor(exchange).send(events)
    expect(result.delivered).toBe(2)
    expect(result.error?.message).toMatch(/unroutable: no queue bound .*tylt\.nobody-listens/)
    // A binding is the operator's to add, and the same event is routed once it exists: an outage.
    expect(result.permanent).toBeUndefined()
    // The fourth was routed and is in the queue; the forwarder will send it again (at least once).
    expect((await drain(queue)).map((m) => m.properties.messageId)).toEqual([
      events[0]!.id,
      events[1]!.id,
      events[3]!.id,
    ])
  })

  it('says so clearly when the exchange does not exist', async () => {
    const sink = sinkFor(uniqueName('tylt-missing'))
    for (let attempt = 0; attempt < 2; attempt++) {
      const result = await sink.send(makeEvents(1))
      expect(result.delivered).toBe(0)
      expect(result.error?.message).toMatch(/exchange "tylt-missing-[0-9a-f]+" does not exist/)
      expect(result.permanent).toBeUndefined()
    }
  })

  it('warns at start when the exchange is missing or RabbitMQ unreachable; not when ready', async () => {
    const missing = uniqueName('tylt-missing')
    expect(await sinkFor(missing).check()).toBe(
      `AMQP downstream ${SHARED}: RabbitMQ exchange "${missing}" does not exist; declare it and bind a queue before forwarding`,
    )
    const port = await freePort()
    const down = sinkFor('tylt', { url: `amqp://guest:guest@127.0.0.1:${port}` })
    expect(await down.check()).toMatch(/^AMQP downstream amqp:.*: cannot connect to RabbitMQ: .*ECONNREFUSED/)
    const { exchange, queue } = await topology()
    const ready = sinkFor(exchange)
    expect(await ready.check()).toBeUndefined()
    // The check published nothing, and the link it opened is the one the next send uses.
    expect(await drain(queue)).toHaveLength(0)
    expect(await ready.send(makeEvents(1))).toEqual({ delivered: 1 })
  })

  it('fails fast when RabbitMQ cannot be reached', async () => {
    const sink = sinkFor('tylt', { url: `amqp://guest:guest@127.0.0.1:${await freePort()}` })
    const started = Date.now()
    const result = await sink.send(makeEvents(2))
    expect(Date.now() - started).toBeLessThan(1_000)
    expect(result.delivered).toBe(0)
    expect(result.error?.message).toMatch(/cannot connect to RabbitMQ: .*ECONNREFUSED/)
    expect(result.error?.message).not.toContain('guest:guest')
  })

  it('reconnects after the broker closes its connection', async () => {
    const { exchange, queue } = await topology()
    const name = uniqueName('tylt-relay-test')
    const sink = sinkFor(exchange, { name })
    const [before, after] = [makeEvents(2), makeEvents(3)]
    expect(await sink.send(before)).toEqual({ delivered: 2 })
    await closeConnectionNamed(name)
    // The client may not have processed the close yet; an attempt on the dying channel may fail (and then
    // published nothing), but the sink must be back within a couple of attempts.
    let result = await sink.send(after)
    for (let attempt = 0; result.delivered === 0 && attempt < 3; attempt++) {
      await sleep(200)
      result = await sink.send(after)
    }
    expect(result).toEqual({ delivered: 3 })
    expectMessages(await drain(queue), [...before, ...after])
    // The new connection carries the same name, so an operator still recognises it.
    await expect(closeConnectionNamed(name)).resolves.toBeUndefined()
  })
})

describe('AmqpSink on a node of its own (max_message_size = 4096)', () => {
  let rabbit: PrivateRabbit
  let admin: ChannelModel
  let setup: Channel
  const dir = mkdtempSync(join(tmpdir(), 'tylt-rabbit-'))

  beforeAll(async () => {
    rabbit = await startPrivateRabbit(dir, 'max_message_size = 4096\nloopback_users = none')
    admin = await connect(rabbit.url)
    setup = await admin.createChannel()
  }, 120_000)
  afterAll(async () => {
    await admin?.close().catch(() => undefined)
    await rabbit?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  async function privateTopology(): Promise<{ exchange: string; queue: string }> {
    const exchange = uniqueName('tylt-test-x')
    const queue = uniqueName('tylt-test-q')
    await setup.assertExchange(exchange, 'topic', { durable: false })
    await setup.assertQueue(queue, { durable: false })
    await setup.bindQueue(queue, exchange, '#')
    return { exchange, queue }
  }

  async function privateDrain(queue: string): Promise<string[]> {
    const ids: string[] = []
    for (;;) {
      const message = await setup.get(queue, { noAck: true })
      if (message === false) return ids
      ids.push(String(message.properties.messageId))
    }
  }

  it("refuses for good an event over the broker's max_message_size; the events around it go through", async () => {
    const { exchange, queue } = await privateTopology()
    const sink = sinkFor(exchange, { url: rabbit.url })
    const [first, second, third] = makeEvents(3)
    const large = { ...second!, body: Buffer.alloc(5_000, 0x61) }
    expect(await sink.send([first!])).toEqual({ delivered: 1 })
    // RabbitMQ closes the channel for the large one, and the one after it loses its confirm with it.
    const refused = await sink.send([large, third!])
    expect(refused.delivered).toBe(0)
    expect(refused.permanent).toBe(true)
    expect(refused.error?.message).toBe(
      "RabbitMQ refused the message: its 5000 bytes are over the broker's max_message_size (4096)",
    )
    // What the forwarder does next: send the rest again, on a new channel.
    let next = await sink.send([third!])
    for (let attempt = 0; next.delivered === 0 && attempt < 5; attempt++) {
      await sleep(200)
      next = await sink.send([third!])
    }
    expect(next).toEqual({ delivered: 1 })
    const ids = await privateDrain(queue)
    expect(ids).not.toContain(large.id)
    expect(ids[0]).toBe(first!.id)
    expect(new Set(ids)).toEqual(new Set([first!.id, third!.id]))
  })

  it('stops waiting for confirms when told to, while the broker answers nothing', async () => {
    const { exchange } = await privateTopology()
    const sink = sinkFor(exchange, { url: rabbit.url })
    expect(await sink.send(makeEvents(1))).toEqual({ delivered: 1 })
    await freeze(rabbit.pid)
    const stop = new AbortController()
    setTimeout(() => stop.abort(), 200)
    const started = Date.now()
    const result = await sink.send(makeEvents(3), stop.signal)
    expect(Date.now() - started).toBeLessThan(4_000)
    expect(result.delivered).toBe(0)
    expect(result.error?.message).toMatch(/sending was stopped/)
    expect(result.permanent).toBeUndefined()
  })
})
