import { randomBytes } from 'node:crypto'
import { describe, expect, it, onTestFinished } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import { QUARANTINE } from '../../src/constants.js'
import { type QuarantinedRequest, RESERVE_SHARE, requestBytes } from '../../src/core/quarantine-store.js'
import { openSharedQuarantineStore } from '../../src/store/open-store.js'
import { EVICTION_SQL } from '../../src/store/postgres/postgres-quarantine-store.js'
import { testEnv } from '../helpers/index.js'
import { receiver, recordingObserver, refusedRequest } from '../quarantine/helpers.js'
import { sql, testSchema } from './postgres-helper.js'

const request = (i: number, bytes = 10): QuarantinedRequest => ({
  id: `q_${i}`,
  receivedAt: 1_700_000_000_000 + i * 1_000,
  reason: i % 2 === 0 ? 'mismatch' : 'unknown_service',
  path: `/webhooks/s${i}`,
  service: i % 2 === 0 ? 'cpg' : null,
  sourceAddress: '10.0.0.1',
  signature: i % 2 === 0 ? 'ab'.repeat(32) : null,
  contentType: 'application/json',
  userAgent: null,
  body: Buffer.alloc(bytes, i),
  fromVerifiedSource: i === 3,
})

const counted = (r: QuarantinedRequest) => requestBytes(r, QUARANTINE.overheadBytes)

/** requestBytes of every kept row, summed by PostgreSQL from the rows themselves. */
const RECOUNT = `SELECT count(*)::int AS count, coalesce(sum(${QUARANTINE.overheadBytes} + octet_length(body)
    + octet_length(path) + octet_length(source_address) + coalesce(octet_length(service), 0)
    + coalesce(octet_length(signature), 0) + coalesce(octet_length(content_type), 0)
    + coalesce(octet_length(user_agent), 0)), 0)::int AS bytes
  FROM tylt_quarantine`

async function openStore() {
  const { url } = await testSchema()
  const store = (await openSharedQuarantineStore(loadConfig(testEnv({ STORE_URL: url }))))!
  onTestFinished(() => store.close())
  return { url, store }
}

describe('PostgreSQL quarantine store', () => {
  it('keeps, lists newest first, gives back byte-exact, removes, counts every byte it keeps', async () => {
    const { url } = await testSchema()
    expect(await openSharedQuarantineStore(loadConfig(testEnv()))).toBeUndefined()
    const store = (await openSharedQuarantineStore(loadConfig(testEnv({ STORE_URL: url }))))!
    onTestFinished(() => store.close())
    await store.add([request(1), request(2), request(3, 30), request(4)])
    await store.add([request(4)])
    expect((await store.list(10)).map((q) => q.id)).toEqual(['q_4', 'q_3', 'q_2', 'q_1'])
    const { body: _body, ...summary } = request(3, 30)
    expect((await store.list(10))[1]).toEqual({ ...summary, bytes: 30 })
    expect(await store.get('q_2')).toEqual(request(2))
    expect(await store.get('q_9')).toBeUndefined()
    const all = [request(1), request(2), request(3, 30), request(4)]
    expect(await store.stats()).toEqual({ count: 4, bytes: all.reduce((n, r) => n + counted(r), 0) })
    expect(await store.trim({ maxBytes: 1_000_000, cutoff: request(2).receivedAt })).toEqual({
      expired: 1,
      evicted: 0,
      evictedReserved: 0,
    })
    expect(await store.remove(['q_3', 'q_9'])).toBe(1)
    expect(await store.remove('all')).toBe(2)
    expect(await store.stats()).toEqual({ count: 0, bytes: 0 })
    expect(await sql(url, 'SELECT * FROM tylt_quarantine_sources')).toEqual([])
  })

  it('holds a flood of empty bodies with 15 KB User-Agents within QUARANTINE_MAX_BYTES, and the gauge says what it holds', async () => {
    const { url, store } = await openStore()
    const maxBytes = 1024 * 1024
    const { observer, stats } = recordingObserver()
    const limits = { perAddress: 10_000, perAddressPerSecond: 10_000, burstBytes: 1e9, bytesPerSecond: 1e9 }
    const r = receiver({ store, maxBytes, observer, limits })
    // 15 KiB of base64, which compresses about as little as real header bytes would, and bytes above 0x7f,
    // which Node reads as latin1 and PostgreSQL keeps as two bytes of UTF-8 each.
    const userAgent = `${randomBytes(11_400).toString('base64')}${'\u00ff'.repeat(80)}`
    let peak = 0
    for (let wave = 0; wave < 30; wave++) {
      for (let i = 0; i < 100; i++)
        r.refused(
          refusedRequest({
            receivedAt: Date.now(),
            body: Buffer.alloc(0),
            userAgent,
            sourceAddress: `203.0.113.${i % 40}`,
          }),
        )
      await r.flush()
      peak = Math.max(peak, (await sql(url, RECOUNT))[0]!.bytes as number)
    }
    const [recount] = await sql(url, RECOUNT)
    const [stored] = await sql(
      url,
      `SELECT coalesce(sum(pg_column_size(q.*)), 0)::int AS live, pg_total_relation_size('tylt_quarantine')::int AS relation
       FROM tylt_quarantine q`,
    )
    process.stdout.write(
      `header flood: ${recount!.count} of 3,000 kept, ${recount!.bytes} bytes counted (peak ${peak}), ` +
        `${stored!.live} bytes in live rows, table with TOAST and indexes ${stored!.relation} bytes\n`,
    )
    expect(recount!.count).toBeGreaterThan(0)
    expect(peak).toBeLessThanOrEqual(maxBytes)
    // What the rows take as stored is within what is counted: the per-row overhead covers tuple headers.
    expect(stored!.live).toBeLessThanOrEqual(maxBytes)
    // The files: the live rows, the space of as many bytes again deleted and not yet vacuumed, the indexes.
    expect(stored!.relation).toBeLessThanOrEqual(2 * maxBytes + 1024 * 1024)
    expect(stats()).toEqual({ count: recount!.count, bytes: recount!.bytes })
    expect(await store.stats()).toEqual(stats())
  }, 120_000)

  it('finds what to evict through indexes, never a scan of the requests', async () => {
    const { url, store } = await openStore()
    // 200,000 requests from 2,000 addresses, as a long flood leaves them.
    await sql(
      url,
      `INSERT INTO tylt_quarantine (id, received_at, reason, path, source_address, body, bytes)
       SELECT 'q_' || n, n, 'mismatch', '/webhooks/cpg', '203.0.' || (n % 2000 / 250) || '.' || (n % 250), '\\x7b7d', 300
       FROM generate_series(1, 200000) AS n`,
    )
    await sql(url, 'ANALYZE tylt_quarantine; ANALYZE tylt_quarantine_sources')
    const plan = async (text: string, values: unknown[]) =>
      JSON.stringify(await sql(url, `EXPLAIN (FORMAT JSON) ${text}`, values))
    const largest = await plan(EVICTION_SQL.largest, [false])
    expect(largest).toContain('"Index Name":"tylt_quarantine_sources_bytes"')
    const evict = await plan(EVICTION_SQL.evict, [false, '203.0.0.1', 3_000, 12])
    expect(evict).toContain('"Index Name":"tylt_quarantine_source"')
    expect(evict).not.toMatch(
      /"Node Type":"Seq Scan","Parent Relationship":"[^"]*","Parallel Aware":false,"Async Capable":false,"Relation Name":"tylt_quarantine"/,
    )
    expect(await plan(EVICTION_SQL.expire, [100])).toContain('"Index Name":"tylt_quarantine_received"')
    // Full to the bound less the reserve: one more request evicts one or two of the largest source's.
    const started = performance.now()
    const full = Math.ceil((200_000 * 300) / (1 - RESERVE_SHARE))
    const evictions = await store.add([request(1_000_000)], { maxBytes: full, cutoff: 0 })
    process.stdout.write(
      `a write at 200,000 requests: ${evictions.evicted} evicted, ${(performance.now() - started).toFixed(0)} ms\n`,
    )
    expect(evictions.evicted).toBeGreaterThan(0)
    expect(evictions.evicted).toBeLessThanOrEqual(2)
  }, 120_000)
})
