// Example consumer of tylt-relay's RabbitMQ downstream, matching FORWARD_URL in .env.example
// (amqp://...?exchange=tylt, routing key tylt.<service> by default). The relay publishes to an exchange that
// must exist and counts an unroutable message as a failure, so the consumer declares the exchange, its queue
// and the binding first. Delivery is at least once: deduplicate by messageId (the event id) before acting.
import amqp from 'amqplib'

const url = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
const exchange = process.env.EXCHANGE ?? 'tylt'
const queue = process.env.QUEUE ?? 'payments'
// Every service's default routing key, tylt.<service>; bind tylt.cpg and the like to take only some.
const binding = process.env.BINDING ?? 'tylt.#'

const connection = await amqp.connect(url)
const channel = await connection.createChannel()
await channel.assertExchange(exchange, 'topic', { durable: true })
await channel.assertQueue(queue, { durable: true })
await channel.bindQueue(queue, exchange, binding)
for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => connection.close())

console.log(
  `reading ${queue} (bound to ${exchange} with ${binding}) on ${url.replace(/\/\/[^@]*@/, '//***@')}`,
)
await channel.consume(queue, (message) => {
  if (message === null) return
  const header = (name) => message.properties.headers?.[name]?.toString() ?? '-'
  console.log(
    JSON.stringify({
      'webhook-id': message.properties.messageId ?? '-',
      'routing-key': message.fields.routingKey,
      'tylt-service': header('tylt-service'),
      'tylt-status': header('tylt-status'),
      'tylt-merchant-order-id': header('tylt-merchant-order-id'),
      body: message.content.toString(),
    }),
  )
  channel.ack(message)
})
