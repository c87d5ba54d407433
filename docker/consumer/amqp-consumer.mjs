// Example consumer of tylt-relay's RabbitMQ downstream, built on the consumer kit, matching FORWARD_URL in
// .env.example (amqp://...?exchange=tylt, routing key tylt.<service> by default): prints one JSON line per
// event. The relay publishes to an exchange that must exist and counts an unroutable message as a failure, so
// the consumer declares the exchange, its queue and the binding first. consumeRabbitMq acknowledges a message
// only once the handler returned: delivery is at least once, so deduplicate on idempotencyKey before acting.
import { once } from 'node:events'
import amqp from 'amqplib'
import { consumeRabbitMq, idempotencyKey } from 'tylt-relay/consumer'

const url = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
const exchange = process.env.EXCHANGE ?? 'tylt'
const queue = process.env.QUEUE ?? 'payments'
// Every service's default routing key, tylt.<service>; bind tylt.cpg and the like to take only some.
const binding = process.env.BINDING ?? 'tylt.#'

const stop = new AbortController()
for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => stop.abort())

/** Your work goes here: store the effect under a unique idempotencyKey, in the same transaction. */
function handle(event) {
  console.log(
    JSON.stringify({
      'webhook-id': event.id,
      service: event.service,
      status: event.status,
      'merchant-order-id': event.merchantOrderId,
      outcome: event.outcome,
      key: idempotencyKey(event),
    }),
  )
}

const connection = await amqp.connect(url)
const channel = await connection.createChannel()
await channel.assertExchange(exchange, 'topic', { durable: true })
await channel.assertQueue(queue, { durable: true })
await channel.bindQueue(queue, exchange, binding)

console.log(
  `reading ${queue} (bound to ${exchange} with ${binding}) on ${url.replace(/\/\/[^@]*@/, '//***@')}`,
)
const stopConsuming = await consumeRabbitMq({
  channel,
  queue,
  handler: handle,
  // A handler that throws gets its message back on the queue after a delay, and it comes again.
  onError: (err, event) => console.error(`event ${event.id} not handled: ${err}`),
})
if (!stop.signal.aborted) await once(stop.signal, 'abort')
// Whatever was delivered but not yet acknowledged goes back to the queue when the connection closes.
await stopConsuming()
await connection.close()
