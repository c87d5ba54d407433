// Example consumer of tylt-relay's Redis Streams downstream, built on the consumer kit: prints one JSON line
// per event. consumeRedisStream reads through a consumer group and acknowledges an entry (XACK) only once the
// handler returned, so delivery is at least once: a process killed mid-entry gets that entry again when it
// starts again under the same CONSUMER name. Deduplicate on idempotencyKey before acting on a payment.
import { Redis } from 'ioredis'
import { consumeRedisStream, idempotencyKey } from 'tylt-relay/consumer'

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const stream = process.env.STREAM ?? 'tylt-events'
// The group keeps the position in the stream; a new group starts at the stream's first entry.
const group = process.env.GROUP ?? 'example'
// Stable across restarts (not a random id): the name under which unacknowledged entries are taken back.
const consumer = process.env.CONSUMER ?? 'example-1'

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

// A connection of its own: XREADGROUP blocks it.
const redis = new Redis(url)
console.log(`reading ${stream} as ${consumer} of group ${group} on ${url.replace(/\/\/[^@]*@/, '//***@')}`)
await consumeRedisStream({
  redis,
  stream,
  group,
  consumer,
  handler: handle,
  // A handler that throws leaves its entry pending; it comes again on the next start.
  onError: (err, event) => console.error(`event ${event.id} not handled: ${err}`),
  // Stops within the 2 s that each XREADGROUP blocks.
  signal: stop.signal,
})
await redis.quit()
