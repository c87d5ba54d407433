import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import amqp from 'amqplib'
import { expect, onTestFinished, test } from 'vitest'
import { eventually, sign, tempDir } from '../helpers/index.js'
import { startRelay } from '../helpers/relay-process.js'
import { EXAMPLES, startExample } from './example-consumer.js'

const ROOT = resolve(import.meta.dirname, '../..')
const CONSUMER = join(EXAMPLES, 'amqp-consumer.mjs')

/** The RabbitMQ FORWARD_URL that .env.example offers (commented out). */
function exampleUrl(): URL {
  const line = readFileSync(join(ROOT, '.env.example'), 'utf8')
    .split('\n')
    .find((l) => /^#\s*FORWARD_URL=amqp:/.test(l))
  if (line === undefined) throw new Error('.env.example offers no amqp FORWARD_URL')
  return new URL(line.replace(/^#\s*FORWARD_URL=/, ''))
}

test('.env.example and the example consumer name the same exchange, and its routing key meets the binding', () => {
  const url = exampleUrl()
  const consumer = readFileSync(CONSUMER, 'utf8')
  expect(consumer).toContain(`process.env.EXCHANGE ?? '${url.searchParams.get('exchange')}'`)
  // Without ?routingKey the relay publishes with tylt.<service>, which the consumer's tylt.# takes.
  expect(url.searchParams.get('routingKey')).toBeNull()
  expect(consumer).toContain("process.env.BINDING ?? 'tylt.#'")
})

test("the example's URL and consumer route: a signed callback reaches the consumer and is confirmed delivered", async () => {
  const suffix = randomBytes(4).toString('hex')
  const exchange = `tylt-example-${suffix}`
  const queue = `payments-example-${suffix}`
  const connection = await amqp.connect('amqp://guest:guest@127.0.0.1:5672')
  const channel = await connection.createChannel()
  onTestFinished(async () => {
    await channel.deleteQueue(queue).catch(() => undefined)
    await channel.deleteExchange(exchange).catch(() => undefined)
    await connection.close().catch(() => undefined)
  })
  // The broker of the test, the exchange and queue names of this run; everything else as the example says.
  const url = exampleUrl()
  url.host = '127.0.0.1:5672'
  url.searchParams.set('exchange', exchange)
  const consumer = startExample('amqp-consumer.mjs', {
    AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
    EXCHANGE: exchange,
    QUEUE: queue,
  })
  await eventually(
    async () => consumer.output.join('\n'),
    (out) => out.includes('reading'),
  )
  const secret = `amqp-example-${suffix}`
  const relay = await startRelay({ TYLT_SECRET_DEMO: secret, FORWARD_URL: url.href, DATA_DIR: tempDir() })
  const body = readFileSync(join(ROOT, 'test/fixtures/cpg-pay-in.json'))
  const answer = await fetch(`${relay.url}/webhooks/demo`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-tlp-signature': sign(secret, body) },
    body,
  })
  expect(answer.status).toBe(200)
  const printed = await eventually(
    async () => consumer.events(),
    (events) => events.length > 0,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${consumer.output.join('\n')}`)
  })
  // Published with tylt.demo, taken by the tylt.# binding, read by the kit from the message's headers.
  const { data } = JSON.parse(body.toString()) as { data: { merchantOrderId: string; status: string } }
  expect(printed[0]).toMatchObject({
    service: 'demo',
    status: data.status,
    'merchant-order-id': data.merchantOrderId,
    outcome: 'success',
    key: `demo:${data.merchantOrderId}:completed`,
  })
  expect(printed[0]?.['webhook-id']).toMatch(/^evt_/)
  const metrics = await eventually(
    () => relay.metrics(),
    (text) => /tylt_relay_events_forwarded_total\{[^}]*outcome="delivered"[^}]*\} 1$/m.test(text),
  )
  expect(metrics).not.toMatch(/tylt_relay_events_forwarded_total\{[^}]*outcome="(failed|dead)"[^}]*\} [1-9]/)
  expect(await relay.stop()).toBe(0)
  expect(consumer.events()).toHaveLength(1)
  // SIGTERM stops it: the consumer is cancelled and the connection closed, so the process exits 0.
  consumer.child.kill('SIGTERM')
  expect(await consumer.exited).toBe(0)
})
