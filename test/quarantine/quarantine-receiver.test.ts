import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { QUARANTINE, QUARANTINE_FILE } from '../../src/constants.js'
import { type QuarantineStore, requestBytes } from '../../src/core/quarantine-store.js'
import { eventually, sleep, tempDir } from '../helpers/index.js'
import { capturedLogger, quarantineStore, receiver, recordingObserver, refusedRequest } from './helpers.js'

const each = requestBytes(refusedRequest(), QUARANTINE.overheadBytes)

/** The number of requests in each transaction `store` is given, in order. */
function batchSizes(store: QuarantineStore): number[] {
  const sizes: number[] = []
  const add = store.add.bind(store)
  store.add = (requests) => {
    sizes.push(requests.length)
    return add(requests)
  }
  return sizes
}

describe('QuarantineReceiver', () => {
  it('keeps refused requests in one write, and logs each with its id but never its body or signature', async () => {
    const store = quarantineStore()
    const { logger, lines } = capturedLogger()
    const { observer, quarantined, services, stats } = recordingObserver()
    const r = receiver({ store, logger, observer })
    const secretish = Buffer.from('{"userDetails":{"email":"payer@example.com"}}')
    r.refused(refusedRequest({ body: secretish }))
    r.refused(refusedRequest({ reason: 'unknown_service', path: '/webhooks/nope', service: 'nope' }))
    r.refused(refusedRequest({ path: '/webhooks', service: null }))
    expect(await store.stats()).toEqual({ count: 0, bytes: 0 })
    await eventually(
      () => store.stats(),
      (s) => s.count === 3,
    )
    expect(quarantined).toEqual(['mismatch', 'unknown_service', 'mismatch'])
    // Bounded labels: never a service name taken from the request.
    expect(services).toEqual(['cpg', 'unknown', '*'])
    expect(stats()?.count).toBe(3)
    const logged = lines.filter((l) => l.msg === 'request quarantined')
    const ids = (await store.list(10)).map((s) => s.id).reverse()
    expect(logged.map((l) => [l.quarantineId, l.reason, l.path, l.service, l.sourceAddress])).toEqual([
      [ids[0], 'mismatch', '/webhooks/cpg', 'cpg', '203.0.113.7'],
      [ids[1], 'unknown_service', '/webhooks/nope', 'nope', '203.0.113.7'],
      [ids[2], 'mismatch', '/webhooks', null, '203.0.113.7'],
    ])
    const text = JSON.stringify(lines)
    expect(text).not.toContain('payer@example.com')
    expect(text).not.toContain('ab'.repeat(32))
    expect((await store.get(ids[0]!))?.body.equals(secretish)).toBe(true)
  })

  it('writes what waits in transactions of about flushBytes each, oldest first, a turn of the loop between two', async () => {
    const store = quarantineStore()
    const batches = batchSizes(store)
    const r = receiver({ store, limits: { flushBytes: 64 * 1024, flushMs: 10_000 } })
    // Ten requests of about 30 KB: two fill a batch, the third takes it past flushBytes.
    for (let i = 0; i < 10; i++)
      r.refused(
        refusedRequest({
          receivedAt: Date.now(),
          sourceAddress: `198.51.100.${i}`,
          body: Buffer.alloc(30_000, 0x61 + i),
        }),
      )
    let turns = 0
    const counting = setInterval(() => turns++, 0)
    await r.flush()
    clearInterval(counting)
    expect(batches).toEqual([3, 3, 3, 1])
    expect(turns).toBeGreaterThanOrEqual(1)
    expect((await store.list(20)).map((q) => q.sourceAddress).reverse()).toEqual(
      Array.from({ length: 10 }, (_, i) => `198.51.100.${i}`),
    )
  })

  it('writes at most flushCount requests a transaction, however small, and writes at once when that many wait', async () => {
    const store = quarantineStore()
    const batches = batchSizes(store)
    // The timer alone would wait 10 s: 70 small requests are written at once, 32 at a time.
    const r = receiver({ store, limits: { flushMs: 10_000 } })
    for (let i = 0; i < 70; i++)
      r.refused(refusedRequest({ receivedAt: Date.now(), sourceAddress: `198.51.${i}.1` }))
    await eventually(
      () => store.stats(),
      (s) => s.count === 70,
      2_000,
    )
    expect(batches).toEqual([32, 32, 6])
  })

  it('rate-limits per source address; what is dropped is counted and not logged', async () => {
    const store = quarantineStore()
    const { logger, lines } = capturedLogger()
    const { observer, dropped } = recordingObserver()
    // A clock that stands still: no bucket refills during the test.
    const r = receiver({ store, logger, observer, now: () => 5_000, limits: { perAddress: 5 } })
    for (let i = 0; i < 20; i++) r.refused(refusedRequest({ sourceAddress: '198.51.100.1' }))
    for (let i = 0; i < 3; i++) r.refused(refusedRequest({ sourceAddress: '198.51.100.2' }))
    await r.flush()
    expect((await store.list(100)).map((s) => s.sourceAddress).sort()).toEqual([
      ...Array(5).fill('198.51.100.1'),
      ...Array(3).fill('198.51.100.2'),
    ])
    expect(dropped.get('rate_limited')).toBe(15)
    expect(lines.filter((l) => l.msg === 'request quarantined')).toHaveLength(8)
  })

  it('never holds more than QUARANTINE_MAX_BYTES: the largest source loses its oldest first, counted as evicted', async () => {
    const store = quarantineStore()
    const { observer, dropped } = recordingObserver()
    const maxBytes = 12 * each
    const r = receiver({ store, observer, maxBytes })
    const start = Date.now()
    let n = 0
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 6; i++, n++)
        r.refused(refusedRequest({ receivedAt: start + n, sourceAddress: '10.0.0.66' }))
      r.refused(refusedRequest({ receivedAt: start + n++, sourceAddress: `10.0.${100 + round}.11` }))
      await r.flush()
      expect((await store.stats()).bytes).toBeLessThanOrEqual(maxBytes)
    }
    const kept = await store.list(100)
    // A quarter of the bound stays free for reserved requests: 9 of 12 for the others.
    expect(kept).toHaveLength(9)
    expect(kept.filter((s) => s.sourceAddress !== '10.0.0.66')).toHaveLength(5)
    const flood = kept.filter((s) => s.sourceAddress === '10.0.0.66').map((s) => s.receivedAt - start)
    expect(flood.sort((a, b) => a - b)).toEqual([30, 31, 32, 33])
    expect(dropped.get('evicted')).toBe(26)
  })

  it('a request larger than the whole quarantine is not kept', async () => {
    const store = quarantineStore()
    const { observer, dropped } = recordingObserver()
    const r = receiver({ store, observer, maxBytes: 1024 })
    r.refused(refusedRequest({ body: Buffer.alloc(2048) }))
    await r.flush()
    expect(dropped.get('too_large')).toBe(1)
    expect((await store.stats()).count).toBe(0)
  })

  it('drops what is older than QUARANTINE_MAX_AGE', async () => {
    const store = quarantineStore()
    const { observer, dropped } = recordingObserver()
    let now = 1_000_000
    const r = receiver({ store, observer, maxAgeMs: 60_000, now: () => now, limits: { maintenanceMs: 20 } })
    r.refused(refusedRequest({ receivedAt: now }))
    await r.flush()
    expect((await store.stats()).count).toBe(1)
    now += 60_001
    await eventually(
      () => store.stats(),
      (s) => s.count === 0,
    )
    expect(dropped.get('expired')).toBe(1)
  })

  it('never waits for a locked file: refused() returns at once, the loop runs, the queue stays bounded', async () => {
    const dir = tempDir()
    const store = quarantineStore(dir)
    const { observer, dropped } = recordingObserver()
    const queueMaxBytes = 50 * each
    const r = receiver({ store, observer, limits: { queueMaxBytes, flushMs: 10 } })
    // An operator's command holding the write lock; a writer that waited for it would stall the loop.
    const other = new Database(join(dir, QUARANTINE_FILE))
    other.exec('BEGIN EXCLUSIVE')
    let ticks = 0
    const ticker = setInterval(() => ticks++, 10)
    for (let i = 0; i < 80; i++) {
      // Received now: the fixture's fixed time is older than QUARANTINE_MAX_AGE, and a later batch's trim
      // would drop the first batch as expired.
      const request = refusedRequest({ sourceAddress: `10.1.${100 + i}.11`, receivedAt: Date.now() })
      expect(r.refused(request)).toBeUndefined()
    }
    await sleep(500)
    clearInterval(ticker)
    expect(r.queued).toBe(50)
    expect(dropped.get('queue_full')).toBe(30)
    // Each flush attempt failed at once: the 10 ms timer kept firing all along.
    expect(ticks).toBeGreaterThan(10)
    expect(other.prepare('SELECT count(*) AS n FROM requests').get()).toEqual({ n: 0 })
    other.exec('ROLLBACK')
    other.close()
    await eventually(
      () => store.stats(),
      (s) => s.count === 50,
    )
    expect(r.queued).toBe(0)
  })

  it('close writes what waits, then ignores what comes after', async () => {
    const dir = tempDir()
    const store = quarantineStore(dir)
    const r = receiver({ store, limits: { flushMs: 60_000 } })
    r.refused(refusedRequest())
    await r.close()
    r.refused(refusedRequest())
    const reader = quarantineStore(dir)
    expect((await reader.stats()).count).toBe(1)
  })
})
