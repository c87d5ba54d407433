import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { onTestFinished } from 'vitest'
import { eventId } from '../../src/event/event-id.js'
import { eventually, SECRETS, sign, tempDir } from '../helpers/index.js'
import { type RelayProcess, startRelay } from '../helpers/relay-process.js'
import { sql } from './postgres-helper.js'

/** Distinct CPG-like callbacks of one run: the tag keeps runs apart, the index keeps bodies apart. */
export function callbacks(count: number): Buffer[] {
  const tag = randomBytes(4).toString('hex')
  return Array.from({ length: count }, (_, i) =>
    Buffer.from(JSON.stringify({ type: 'pay-in', data: { orderId: `${tag}-${i}`, status: 'Completed' } })),
  )
}

export const idOf = (body: Buffer): string => eventId('cpg', body)

/** A unique Redis stream on the shared Redis, deleted when the test ends. */
export function redisStream() {
  const stream = `tylt-pg-${randomBytes(6).toString('hex')}`
  const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 })
  onTestFinished(async () => {
    await redis.del(stream).catch(() => undefined)
    redis.disconnect()
  })
  return {
    forwardUrl: `redis://127.0.0.1:6379?stream=${stream}`,
    /** The event ids in the stream, in stream order (repeats kept). */
    ids: async (): Promise<string[]> => {
      const entries = await redis.xrange(stream, '-', '+')
      return entries.map(([, fields]) => fields[fields.indexOf('webhook-id') + 1]!)
    },
  }
}

/** A relay on `storeUrl` forwarding to `forwardUrl`; each replica gets a DATA_DIR of its own, unused. */
export function replica(storeUrl: string, forwardUrl?: string): Promise<RelayProcess> {
  return startRelay({
    TYLT_SECRET_CPG: SECRETS.cpg,
    DATA_DIR: tempDir(),
    STORE_URL: storeUrl,
    SHUTDOWN_GRACE: '5s',
    ...(forwardUrl === undefined ? {} : { FORWARD_URL: forwardUrl }),
  })
}

/** The replica that logged taking the forwarding lease last, among those still running. */
export async function leaseHolder(relays: readonly RelayProcess[]): Promise<RelayProcess> {
  const holders = () =>
    relays.filter((r) => r.child.exitCode === null && r.output().includes('forwarding lease acquired'))
  await eventually(
    async () => holders().length,
    (n) => n >= 1,
  )
  const found = holders()
  if (found.length !== 1) throw new Error(`${found.length} replicas say they hold the forwarding lease`)
  return found[0]!
}

export interface Answer {
  readonly id: string
  readonly status: number
  readonly retryAfter: string | null
  readonly answeredAt: number
}

/** Callbacks sent back to back by `workers` senders until `stop()`; every answer is recorded. */
export function steadyLoad(relay: RelayProcess, workers = 8) {
  const bodies = callbacks(200_000)
  const answers: Answer[] = []
  let next = 0
  let running = true
  const worker = async () => {
    while (running) {
      const body = bodies[next++]!
      const response = await fetch(`${relay.url}/webhooks/cpg`, {
        method: 'POST',
        headers: { 'x-tlp-signature': sign(SECRETS.cpg, body) },
        body,
      })
      await response.text()
      const answer = {
        id: idOf(body),
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
      }
      answers.push({ ...answer, answeredAt: performance.now() })
    }
  }
  const done = Promise.all(Array.from({ length: workers }, worker))
  return {
    answers,
    stop: async () => {
      running = false
      await done
    },
  }
}

/** When `relay` logged taking the forwarding lease (its log line's time, epoch ms), if it has. */
export function leaseAcquiredAt(relay: RelayProcess): number | undefined {
  const line = relay.stdout.find((l) => l.includes('forwarding lease acquired'))
  return line === undefined ? undefined : (JSON.parse(line) as { time: number }).time
}

/** POSTs one signed callback; status 0 when the connection failed (nothing acknowledged). */
export async function postCallback(relay: RelayProcess, body: Buffer): Promise<{ status: number }> {
  try {
    const response = await fetch(`${relay.url}/webhooks/cpg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tlp-signature': sign(SECRETS.cpg, body) },
      body,
      signal: AbortSignal.timeout(20_000),
    })
    const text = await response.text()
    if (response.status === 200 && text !== 'ok') throw new Error(`200 with body ${text}`)
    return { status: response.status }
  } catch (err) {
    if ((err as Error).message.startsWith('200 with')) throw err
    return { status: 0 }
  }
}

/**
 * Sends every body once with `concurrency` requests in flight; `target(i)` picks the replica of body i
 * (read when it is sent). Returns each body's status.
 */
export async function sendAll(
  bodies: readonly Buffer[],
  target: (i: number) => RelayProcess,
  concurrency = 32,
  onSent?: (sent: number) => void | Promise<void>,
): Promise<number[]> {
  const statuses = new Array<number>(bodies.length).fill(-1)
  let next = 0
  const worker = async () => {
    for (;;) {
      const i = next++
      if (i >= bodies.length) return
      await onSent?.(i)
      statuses[i] = (await postCallback(target(i), bodies[i]!)).status
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return statuses
}

/** Every event's id, seq and state, in seq order. */
export async function storedEvents(url: string): Promise<{ id: string; seq: number; state: string }[]> {
  const rows = await sql(url, 'SELECT id, seq::float8 AS seq, state FROM tylt_events ORDER BY seq')
  return rows as { id: string; seq: number; state: string }[]
}

export async function waitUntilNothingPending(url: string, timeoutMs = 90_000): Promise<void> {
  const pending = async () =>
    Number((await sql(url, `SELECT count(*) AS n FROM tylt_events WHERE state = 'pending'`))[0]!.n)
  await eventually(pending, (n) => n === 0, timeoutMs)
}
