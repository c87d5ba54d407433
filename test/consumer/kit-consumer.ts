/**
 * A consumer built on tylt-relay/consumer, run as its own process by consumer.system.test.ts. It writes
 * `start KEY` before and `done KEY` after each event's work to LOG_FILE; with HANG_AT=N its Nth event's work
 * never ends, so the test can SIGKILL it mid-handler.
 */
import { appendFileSync } from 'node:fs'
import { jetstream } from '@nats-io/jetstream'
import { connect as natsConnect } from '@nats-io/transport-node'
import { connect as amqpConnect } from 'amqplib'
import { Redis } from 'ioredis'
import {
  consumeJetStream,
  consumeRabbitMq,
  consumeRedisStream,
  type EventHandler,
  idempotencyKey,
} from '../../src/consumer/index.js'

const env = (name: string) => process.env[name] ?? ''
let handled = 0

const handler: EventHandler = async (event) => {
  const key = `${idempotencyKey(event)} ${event.product} ${event.outcome}`
  appendFileSync(env('LOG_FILE'), `start ${key}\n`)
  handled += 1
  if (handled === Number(env('HANG_AT'))) await new Promise(() => undefined)
  appendFileSync(env('LOG_FILE'), `done ${key}\n`)
}

if (env('BROKER') === 'redis') {
  await consumeRedisStream({
    redis: new Redis(env('REDIS_URL')),
    stream: env('STREAM'),
    group: 'shop',
    consumer: env('CONSUMER'),
    reclaimIdleMs: 1000,
    blockMs: 300,
    handler,
  })
} else if (env('BROKER') === 'nats') {
  const nc = await natsConnect({ servers: env('NATS_SERVERS') })
  await consumeJetStream({ consumer: await jetstream(nc).consumers.get(env('STREAM'), 'shop'), handler })
} else {
  const channel = await (await amqpConnect(env('AMQP_URL'))).createChannel()
  await consumeRabbitMq({ channel, queue: env('QUEUE'), prefetch: 2, handler })
  appendFileSync(env('LOG_FILE'), 'consuming\n')
}
