import { type ErrorListener, type EventHandler, handleDelivery } from './handle-delivery.js'

/**
 * The one method the helper needs of a Redis client: ioredis's `call` (node-redis: wrap `sendCommand`).
 * Replies are read as text; the relay's bodies are JSON.
 */
export interface RedisCommands {
  call(command: string, ...args: (string | number)[]): Promise<unknown>
}

export interface RedisStreamOptions {
  /** A connection of its own: XREADGROUP blocks it. */
  readonly redis: RedisCommands
  readonly stream: string
  readonly group: string
  /** This process's name in the group; a restart under the same name first takes back what it held. */
  readonly consumer: string
  readonly handler: EventHandler
  readonly onError?: ErrorListener
  /** Entries another consumer holds unacknowledged this long are claimed (XAUTOCLAIM); 60 s by default. */
  readonly reclaimIdleMs?: number
  readonly blockMs?: number
  readonly count?: number
  readonly signal?: AbortSignal
}

/** An entry; its fields are null when it was deleted from the stream while pending. */
type Entry = [id: string, fields: string[] | null]

/**
 * The entries of an XREADGROUP reply: RESP2 gives `[[stream, entries]]`, RESP3's map arrives flattened as
 * `[stream, entries]` (ioredis 6).
 */
function entriesOf(reply: unknown): Entry[] {
  if (!Array.isArray(reply)) return []
  const lists =
    typeof reply[0] === 'string' ? reply.filter((_, i) => i % 2 === 1) : reply.map((pair) => pair?.[1])
  return lists.flatMap((list) => (Array.isArray(list) ? (list as Entry[]) : []))
}

function fieldsOf(flat: readonly string[]): Record<string, string> {
  const fields: Record<string, string> = {}
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!
  return fields
}

/**
 * At-least-once consumption of the relay's Redis stream through a consumer group: XREADGROUP hands each
 * entry to the handler, XACK follows only once the handler resolved. What a crashed process held stays in the
 * group's pending list: the same consumer takes it back on restart, any other after `reclaimIdleMs`
 * (XAUTOCLAIM). Runs until `signal` aborts (within `blockMs`).
 */
export async function consumeRedisStream(options: RedisStreamOptions): Promise<void> {
  const { redis, stream, group, consumer, handler, onError, signal } = options
  const count = options.count ?? 10
  try {
    await redis.call('XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM')
  } catch (err) {
    if (!String((err as Error).message).includes('BUSYGROUP')) throw err
  }
  const handle = async ([id, flat]: Entry) => {
    // A deleted entry has nothing left to hand over; acknowledging it takes it off the pending list.
    const fields = flat === null ? undefined : fieldsOf(flat)
    if (fields === undefined || (await handleDelivery(fields.body ?? '', fields, handler, onError)))
      await redis.call('XACK', stream, group, id)
  }
  // What this consumer held before a restart: its own pending entries, from the start of the stream.
  for (const entry of entriesOf(
    await redis.call('XREADGROUP', 'GROUP', group, consumer, 'STREAMS', stream, '0'),
  ))
    await handle(entry)
  while (!signal?.aborted) {
    const claimed = (await redis.call(
      'XAUTOCLAIM',
      stream,
      group,
      consumer,
      options.reclaimIdleMs ?? 60_000,
      '0-0',
      'COUNT',
      count,
    )) as [string, Entry[] | null]
    for (const entry of claimed[1] ?? []) await handle(entry)
    const reply = await redis.call(
      'XREADGROUP',
      'GROUP',
      group,
      consumer,
      'COUNT',
      count,
      'BLOCK',
      options.blockMs ?? 2000,
      'STREAMS',
      stream,
      '>',
    )
    for (const entry of entriesOf(reply)) await handle(entry)
  }
}
