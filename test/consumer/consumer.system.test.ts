import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { AckPolicy, jetstreamManager } from '@nats-io/jetstream'
import { nanos, connect as natsConnect } from '@nats-io/transport-node'
import { connect as amqpConnect } from 'amqplib'
import { Redis } from 'ioredis'
import { describe, expect, it, onTestFinished } from 'vitest'
import { triggerCommand } from '../../src/cli/trigger-command.js'
import { uniqueName } from '../forward/sinks/helpers.js'
import { eventually, tempDir } from '../helpers/index.js'
import { inheritedEnv, startRelay } from '../helpers/relay-process.js'

const SECRET = { TYLT_SECRET_SHOP: 'shop-secret-5e1a' }
const SCRIPT = fileURLToPath(new URL('./kit-consumer.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
/** One order per family that ends in a different way: success, failure, refund, pending, unknown. */
const SENT = [
  ['cpg-pay-in', 'completed'],
  ['cpg-pay-in', 'expired'],
  ['upi', 'completed'],
  ['upi', 'awaiting-payment'],
  ['pix-pay-in', 'completed'],
  ['pix-payout', 'expired'],
  ['eu-pay-in', 'refunded'],
  ['eu-payout', 'awaiting-approval'],
  ['inr-payout', 'failed'],
  ['php', 'completed'],
] as const

/** Runs the kit consumer as its own process; killed when the test ends. */
function startConsumer(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], {
    cwd: ROOT,
    env: { ...inheritedEnv(), ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  )
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  return { child, exited, stderr: () => stderr }
}

const logLines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean)

/** Triggers every SENT order at the relay, each with its own merchant order id. */
async function triggerAll(relayUrl: string): Promise<string[]> {
  const orders: string[] = []
  for (const [index, [family, state]] of SENT.entries()) {
    const order = `KIT-${index}`
    let answer = ''
    const out = new Writable({
      write: (chunk, _encoding, done) => {
        answer += String(chunk)
        done()
      },
    })
    const code = await triggerCommand.run({
      positionals: [family, state, `${relayUrl}/webhooks/shop`],
      values: { order },
      env: SECRET,
      stdout: out,
    })
    expect(code, answer).toBe(0)
    orders.push(order)
  }
  return orders
}

/**
 * The crash: the first consumer hangs in its third event's handler and is SIGKILLed there; a second one
 * (`restart`) must handle every event, the interrupted one included, so that none is lost.
 */
async function survivesCrash(
  forwardUrl: string,
  consumerEnv: Record<string, string>,
  restart: Record<string, string>,
) {
  const log = join(tempDir(), 'handled.log')
  writeFileSync(log, '')
  const relay = await startRelay({ ...SECRET, DATA_DIR: tempDir(), FORWARD_URL: forwardUrl })
  const first = startConsumer({ ...consumerEnv, LOG_FILE: log, HANG_AT: '3' })
  if (consumerEnv.BROKER === 'amqp')
    await eventually(
      async () => logLines(log),
      (l) => l.includes('consuming'),
    )
  const orders = await triggerAll(relay.url)
  const starts = () => logLines(log).filter((l) => l.startsWith('start '))
  await eventually(
    async () => starts().length,
    (n) => n >= 3,
    20_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${first.stderr()}`)
  })
  const interrupted = starts()[2]!.slice('start '.length)
  expect(logLines(log)).not.toContain(`done ${interrupted}`)
  first.child.kill('SIGKILL')
  expect(await first.exited).toBe('SIGKILL')

  const second = startConsumer({ ...consumerEnv, ...restart, LOG_FILE: log, HANG_AT: '0' })
  const doneOrders = () =>
    new Set(logLines(log).flatMap((l) => (l.startsWith('done ') ? [l.split(' ')[1]!.split(':')[1]!] : [])))
  await eventually(
    async () => doneOrders().size,
    (n) => n >= orders.length,
    30_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${logLines(log).join('\n')}\n${second.stderr()}`)
  })
  expect([...doneOrders()].sort()).toEqual([...orders].sort())
  expect(logLines(log)).toContain(`done ${interrupted}`)
  // Each event was parsed by the kit: the outcomes of the families sent.
  const outcomes = new Set(
    logLines(log)
      .filter((l) => l.startsWith('done '))
      .map((l) => l.split(' ').at(-1)),
  )
  expect(outcomes).toEqual(new Set(['success', 'failure', 'refunded', 'pending', 'unknown']))
  expect(await relay.stop()).toBe(0)
}

describe('a consumer built on the kit, SIGKILLed mid-handler and started again, loses nothing', () => {
  it('Redis Streams: the restarted consumer, under another name, claims what the dead one held', async () => {
    const stream = uniqueName('tylt-kit')
    const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 })
    onTestFinished(async () => {
      await redis.del(stream).catch(() => undefined)
      redis.disconnect()
    })
    await survivesCrash(
      `redis://127.0.0.1:6379?stream=${stream}`,
      { BROKER: 'redis', REDIS_URL: 'redis://127.0.0.1:6379', STREAM: stream, CONSUMER: 'worker-1' },
      { CONSUMER: 'worker-2' },
    )
    // Everything acknowledged in the end: the group's pending list is empty.
    expect(await redis.call('XPENDING', stream, 'shop')).toEqual([0, null, null, null])
  })

  it('NATS JetStream: a durable consumer redelivers what was not acknowledged', async () => {
    const nc = await natsConnect({ servers: '127.0.0.1:4222' })
    const jsm = await jetstreamManager(nc)
    const name = uniqueName('tylt_kit').replaceAll('-', '_')
    const subject = `tylt.kit.${name}`
    await jsm.streams.add({ name, subjects: [subject] })
    await jsm.consumers.add(name, {
      durable_name: 'shop',
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(2000),
    })
    onTestFinished(async () => {
      await jsm.streams.delete(name).catch(() => undefined)
      await nc.close()
    })
    await survivesCrash(
      `nats://127.0.0.1:4222?subject=${subject}`,
      { BROKER: 'nats', NATS_SERVERS: '127.0.0.1:4222', STREAM: name },
      {},
    )
    const info = await jsm.consumers.info(name, 'shop')
    expect(info.num_ack_pending).toBe(0)
  })

  it('RabbitMQ: manual acks put back what the dead connection held', async () => {
    const exchange = uniqueName('tylt-kit')
    const queue = uniqueName('tylt-kit-queue')
    const connection = await amqpConnect('amqp://guest:guest@127.0.0.1:5672')
    const channel = await connection.createChannel()
    await channel.assertExchange(exchange, 'topic', { durable: false })
    await channel.assertQueue(queue, { durable: false })
    await channel.bindQueue(queue, exchange, 'tylt.#')
    onTestFinished(async () => {
      await channel.deleteQueue(queue).catch(() => undefined)
      await channel.deleteExchange(exchange).catch(() => undefined)
      await connection.close().catch(() => undefined)
    })
    await survivesCrash(
      `amqp://guest:guest@127.0.0.1:5672?exchange=${exchange}`,
      { BROKER: 'amqp', AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672', QUEUE: queue },
      {},
    )
    await eventually(
      async () => (await channel.checkQueue(queue)).messageCount,
      (n) => n === 0,
    )
  })
})
