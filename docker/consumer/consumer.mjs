// Example consumer of tylt-relay's Redis Streams downstream: prints each event as it arrives.
// Delivery is at least once, so a real consumer deduplicates by `webhook-id` (e.g. a unique key in its
// database) before acting on a payment, and records the last entry id it processed.
import { Redis } from 'ioredis'

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const stream = process.env.STREAM ?? 'tylt-events'
// `$` starts with entries added from now on; `0` replays the whole stream.
let lastId = process.env.FROM_ID ?? '$'

const redis = new Redis(url)
let running = true
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    running = false
    redis.disconnect()
  })
}

/** Stream fields arrive as a flat [name, value, name, value, ...] list of Buffers. */
function fieldsOf(flat) {
  const fields = new Map()
  for (let i = 0; i < flat.length; i += 2) fields.set(flat[i].toString(), flat[i + 1])
  return fields
}

console.log(`reading ${stream} on ${url}`)
while (running) {
  let reply
  try {
    // xreadBuffer keeps the body as the exact bytes the relay verified.
    reply = await redis.xreadBuffer('BLOCK', 5000, 'COUNT', 100, 'STREAMS', stream, lastId)
  } catch (err) {
    if (!running) break
    console.error(`XREAD failed: ${err.message}; retrying`)
    await new Promise((resolve) => setTimeout(resolve, 1000))
    continue
  }
  for (const [, entries] of reply ?? []) {
    for (const [id, flat] of entries) {
      const fields = fieldsOf(flat)
      const text = (name) => fields.get(name)?.toString() ?? '-'
      console.log(
        JSON.stringify({
          entry: id.toString(),
          'webhook-id': text('webhook-id'),
          'tylt-service': text('tylt-service'),
          'tylt-status': text('tylt-status'),
          'tylt-merchant-order-id': text('tylt-merchant-order-id'),
          body: text('body'),
        }),
      )
      lastId = id.toString()
    }
  }
}
