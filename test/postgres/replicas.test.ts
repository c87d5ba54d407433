import { describe, expect, it } from 'vitest'
import { MIGRATIONS } from '../../src/store/postgres/schema.js'
import { eventually, sample } from '../helpers/index.js'
import type { RelayProcess } from '../helpers/relay-process.js'
import { sql, testSchema } from './postgres-helper.js'
import {
  callbacks,
  idOf,
  leaseAcquiredAt,
  leaseHolder,
  postCallback,
  redisStream,
  replica,
  sendAll,
  storedEvents,
  waitUntilNothingPending,
} from './replica-helpers.js'

/** The forwarder's batch size: what can be in flight when its holder dies, and so may arrive twice. */
const FORWARD_BATCH = 1_000
/**
 * How soon a survivor must take the lease over after its holder is killed: the holder's connection ends with its
 * process and the survivors try every second, so this leaves room for a loaded machine.
 */
const TAKEOVER_BOUND_MS = 10_000

describe('replicas on one PostgreSQL database', () => {
  it('start at once against an empty database: one schema, no error', async () => {
    const { url } = await testSchema()
    const relays = await Promise.all([replica(url), replica(url), replica(url)])
    expect(await sql(url, 'SELECT version FROM tylt_schema')).toEqual([{ version: MIGRATIONS.length }])
    const tables = await sql(
      url,
      `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1`,
    )
    expect(tables.map((t) => t.table_name)).toEqual([
      'tylt_attempts',
      'tylt_events',
      'tylt_probe',
      'tylt_quarantine',
      'tylt_quarantine_sources',
      'tylt_quarantine_totals',
      'tylt_schema',
    ])
    for (const relay of relays) {
      expect(relay.output()).not.toMatch(/"level":(50|60)/)
      expect(relay.output()).not.toContain('PostgreSQL store not reachable yet')
    }
    await leaseHolder(relays)
  })

  it('forward every acknowledged event once in acceptance order while the lease holder is killed and restarted', async () => {
    const { url } = await testSchema()
    const stream = redisStream()
    const relays = await Promise.all([
      replica(url, stream.forwardUrl),
      replica(url, stream.forwardUrl),
      replica(url, stream.forwardUrl),
    ])
    const holder = await leaseHolder(relays)
    const live: RelayProcess[] = [...relays]
    const bodies = callbacks(20_000)
    let restarted: Promise<void> | undefined
    let killedAt = 0
    const startedAt = performance.now()
    const statuses = await sendAll(
      bodies,
      (i) => live[i % live.length]!,
      32,
      (sent) => {
        if (sent === 6_000) {
          holder.child.kill('SIGKILL')
          killedAt = Date.now()
          live.splice(live.indexOf(holder), 1)
        }
        if (sent === 12_000) {
          restarted = replica(url, stream.forwardUrl).then((relay) => {
            live.push(relay)
          })
        }
      },
    )
    await restarted
    const sentAt = performance.now()
    const survivors = relays.filter((r) => r !== holder)
    const takenOverAt = await eventually(
      async () => survivors.map(leaseAcquiredAt).find((at) => at !== undefined),
      (at) => at !== undefined,
      TAKEOVER_BOUND_MS,
    )
    const takeoverMs = takenOverAt! - killedAt
    const acknowledged = bodies.filter((_, i) => statuses[i] === 200).map(idOf)
    const refused = statuses.filter((s) => s !== 200)
    // Only requests caught by the kill may go unanswered; every other one was acknowledged.
    expect(refused.length).toBeLessThanOrEqual(64)
    expect(acknowledged.length).toBeGreaterThanOrEqual(20_000 - 64)

    await waitUntilNothingPending(url)
    const drainedAt = performance.now()
    const stored = await storedEvents(url)
    const seqOf = new Map(stored.map((e) => [e.id, e.seq]))
    for (const id of acknowledged) expect(seqOf.has(id), `acknowledged ${id} not stored`).toBe(true)
    expect(stored.every((e) => e.state === 'delivered')).toBe(true)

    const inStream = await stream.ids()
    const firsts: string[] = []
    const seen = new Set<string>()
    for (const id of inStream) {
      if (seen.has(id)) continue
      seen.add(id)
      firsts.push(id)
    }
    const duplicates = inStream.length - firsts.length
    process.stdout.write(
      `replicas: ${acknowledged.length} acknowledged, ${refused.length} cut by the kill, ` +
        `${inStream.length} stream entries, ${duplicates} duplicate(s) after the kill, ` +
        `lease taken over ${(takeoverMs / 1000).toFixed(1)} s after it ` +
        `(sent in ${((sentAt - startedAt) / 1000).toFixed(1)} s, drained ${((drainedAt - sentAt) / 1000).toFixed(1)} s later)\n`,
    )
    expect(holder.child.signalCode).toBe('SIGKILL')
    // One survivor took the lease over, within seconds of the kill.
    expect(survivors.filter((r) => leaseAcquiredAt(r) !== undefined)).toHaveLength(1)
    expect(takeoverMs).toBeGreaterThan(0)
    expect(takeoverMs).toBeLessThanOrEqual(TAKEOVER_BOUND_MS)
    for (const id of acknowledged) expect(seen.has(id), `acknowledged ${id} never forwarded`).toBe(true)
    expect(firsts.length).toBe(stored.length)
    const seqs = firsts.map((id) => seqOf.get(id)!)
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
    expect(duplicates).toBeLessThanOrEqual(FORWARD_BATCH)
    // Every repeat comes from the one batch the killed holder had in flight: one contiguous run of seqs.
    const repeated = [...new Set(inStream.filter((id, i) => inStream.indexOf(id) !== i))].map(
      (id) => seqOf.get(id)!,
    )
    if (repeated.length > 0) {
      const run = stored.filter((e) => e.seq >= Math.min(...repeated) && e.seq <= Math.max(...repeated))
      expect(run.length).toBeLessThanOrEqual(FORWARD_BATCH)
    }
  }, 180_000)

  it('store and forward once a callback that two replicas receive at the same time, 1,000 times over', async () => {
    const { url } = await testSchema()
    const stream = redisStream()
    const relays = await Promise.all([replica(url, stream.forwardUrl), replica(url, stream.forwardUrl)])
    const bodies = callbacks(1_000)
    let next = 0
    const worker = async () => {
      for (let i = next++; i < bodies.length; i = next++) {
        const both = await Promise.all(relays.map((relay) => postCallback(relay, bodies[i]!)))
        expect(both.map((r) => r.status)).toEqual([200, 200])
      }
    }
    await Promise.all(Array.from({ length: 16 }, worker))
    const counted = async (outcome: string) => {
      let sum = 0
      for (const relay of relays)
        sum += sample(await relay.metrics(), 'tylt_relay_webhook_requests_total', { outcome }) ?? 0
      return sum
    }
    expect(await counted('accepted')).toBe(1_000)
    expect(await counted('duplicate')).toBe(1_000)
    await waitUntilNothingPending(url)
    const stored = await storedEvents(url)
    expect(stored.map((e) => e.id).sort()).toEqual(bodies.map(idOf).sort())
    const inStream = await stream.ids()
    expect(inStream).toHaveLength(1_000)
    expect(new Set(inStream).size).toBe(1_000)
  }, 120_000)
})
