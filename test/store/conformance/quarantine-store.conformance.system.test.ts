import { randomBytes } from 'node:crypto'
import { describe, expect, it, onTestFinished } from 'vitest'
import { QUARANTINE } from '../../../src/constants.js'
import {
  type Evictions,
  type QuarantineBound,
  type QuarantinedRequest,
  type QuarantineStore,
  RESERVE_SHARE,
  type RefusedRequest,
  requestBytes,
} from '../../../src/core/quarantine-store.js'
import { SqliteQuarantineStore } from '../../../src/quarantine/sqlite-quarantine-store.js'
import { openPostgresQuarantineStore } from '../../../src/store/postgres/open-postgres.js'
import { EVICTION_STEP_BYTES } from '../../../src/store/postgres/postgres-quarantine-store.js'
import { tempDir } from '../../helpers/index.js'
import { testSchema } from '../../postgres/postgres-helper.js'
import { refusedRequest } from '../../quarantine/helpers.js'

/** Both quarantine stores, fresh and empty, closed when the test ends. */
const ADAPTERS: readonly { name: string; open(): Promise<QuarantineStore> }[] = [
  { name: 'SQLite', open: async () => new SqliteQuarantineStore(tempDir()) },
  { name: 'PostgreSQL', open: async () => openPostgresQuarantineStore((await testSchema()).storeUrl) },
]

let clock = 1_765_000_000_000
const keep = (overrides: Partial<RefusedRequest> = {}): QuarantinedRequest => ({
  id: `q_${randomBytes(8).toString('hex')}`,
  ...refusedRequest({ receivedAt: clock++, ...overrides }),
})
const counted = (r: RefusedRequest) => requestBytes(r, QUARANTINE.overheadBytes)
const bound = (maxBytes: number): QuarantineBound => ({ maxBytes, cutoff: 0 })
const sum = (all: Evictions[]) => ({
  evicted: all.reduce((n, e) => n + e.evicted, 0),
  evictedReserved: all.reduce((n, e) => n + e.evictedReserved, 0),
})

/** What the store holds, recounted from its rows (body length from the summary), by source address. */
async function recount(store: QuarantineStore) {
  const all = await store.list(1_000_000)
  const bySource = new Map<string, string[]>()
  let bytes = 0
  for (const r of all) {
    bytes += counted({ ...r, body: Buffer.alloc(r.bytes) })
    bySource.set(r.sourceAddress, [...(bySource.get(r.sourceAddress) ?? []), r.id])
  }
  return { count: all.length, bytes, bySource }
}

/** A verified source's well-formed refusal: what a rotated key makes of Tylt's callbacks. */
const fromTylt = (overrides: Partial<RefusedRequest> = {}) =>
  keep({ sourceAddress: '198.51.100.10', fromVerifiedSource: true, reason: 'mismatch', ...overrides })

describe.each(ADAPTERS)('quarantine store conformance: $name', (adapter) => {
  const open = async () => {
    const store = await adapter.open()
    onTestFinished(() => store.close())
    return store
  }

  it('counts body, path and headers: a flood of empty bodies with 15 KB User-Agents stays within the bound', async () => {
    const store = await open()
    const maxBytes = 1024 * 1024
    const userAgent = 'A'.repeat(15 * 1024)
    for (let batch = 0; batch < 3_000 / 30; batch++) {
      const requests = Array.from({ length: 30 }, (_, i) =>
        keep({ body: Buffer.alloc(0), userAgent, sourceAddress: `203.0.113.${(batch + i) % 50}` }),
      )
      await store.add(requests, bound(maxBytes))
      expect((await store.stats()).bytes).toBeLessThanOrEqual(maxBytes)
    }
    const stats = await store.stats()
    const { count, bytes } = await recount(store)
    expect(stats).toEqual({ count, bytes })
    // Full, within one request of the bound less the reserve (nothing here is reserved).
    expect(bytes).toBeLessThanOrEqual(maxBytes * (1 - RESERVE_SHARE))
    expect(bytes).toBeGreaterThan(maxBytes * (1 - RESERVE_SHARE) - counted(keep({ userAgent })))
  })

  it('evicts from the source holding the most bytes first, oldest first', async () => {
    const store = await open()
    const big = Array.from({ length: 10 }, () => keep({ sourceAddress: '192.0.2.1' }))
    const small = Array.from({ length: 3 }, () => keep({ sourceAddress: '192.0.2.2' }))
    const one = keep({ sourceAddress: '192.0.2.3' })
    await store.add([...big, ...small, one])
    const each = counted(one)
    // Room for 8 (a quarter reserved): the large source loses its 6 oldest, the others nothing.
    const evictions = await store.trim(bound(Math.ceil((8 * each) / (1 - RESERVE_SHARE))))
    expect(evictions).toEqual({ expired: 0, evicted: 6, evictedReserved: 0 })
    const { bySource } = await recount(store)
    expect(new Set(bySource.get('192.0.2.1'))).toEqual(new Set(big.slice(6).map((r) => r.id)))
    expect(bySource.get('192.0.2.2')).toHaveLength(3)
    expect(bySource.get('192.0.2.3')).toEqual([one.id])
  })

  it('a flood from 12 addresses cannot evict what a verified source kept, nor a quiet source', async () => {
    const store = await open()
    const maxBytes = 256 * 1024
    const tylt = [fromTylt(), fromTylt({ reason: 'unknown_service', service: 'new' }), fromTylt()]
    const quiet = keep({ sourceAddress: '192.0.2.200' })
    // From the verified address too, but not well-formed: not reserved.
    const malformed = fromTylt({ reason: 'malformed' })
    const evictions = [await store.add([...tylt, quiet, malformed], bound(maxBytes))]
    for (let batch = 0; batch < 150; batch++) {
      const flood = Array.from({ length: 32 }, (_, i) =>
        keep({ sourceAddress: `203.0.113.${(batch * 32 + i) % 12}`, body: randomBytes(600) }),
      )
      evictions.push(await store.add(flood, bound(maxBytes)))
      if (batch === 75) evictions.push(await store.add([fromTylt()], bound(maxBytes)))
    }
    const { bySource, bytes } = await recount(store)
    expect(sum(evictions).evicted).toBeGreaterThan(4_000)
    expect(sum(evictions).evictedReserved).toBe(0)
    // The verified address's four reserved requests, and its malformed one: one request is a quiet source.
    expect(bySource.get('198.51.100.10')).toHaveLength(5)
    expect(bySource.get('192.0.2.200')).toEqual([quiet.id])
    expect(bytes).toBeLessThanOrEqual(maxBytes)
    expect((await store.get(tylt[1]!.id))?.fromVerifiedSource).toBe(true)
    // The flood's addresses share what is left evenly, within one eviction step (EVICTION_STEP_BYTES).
    const flooded = [...bySource].filter(([address]) => address.startsWith('203.0.113.'))
    expect(flooded).toHaveLength(12)
    const sizes = flooded.map(([, ids]) => ids.length)
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(
      Math.ceil(EVICTION_STEP_BYTES / 600) + 1,
    )
  })

  it('evicts reserved requests only when they alone pass the bound, the largest verified source first, and says so', async () => {
    const store = await open()
    const one = counted(fromTylt())
    await store.add([keep({ sourceAddress: '203.0.113.9' })])
    const many = Array.from({ length: 6 }, () => fromTylt())
    const other = [fromTylt({ sourceAddress: '198.51.100.20' })]
    const evictions = await store.add([...many, ...other], bound(5 * one))
    expect(evictions).toEqual({ expired: 0, evicted: 1, evictedReserved: 2 })
    const { bySource } = await recount(store)
    expect(new Set(bySource.get('198.51.100.10'))).toEqual(new Set(many.slice(2).map((r) => r.id)))
    expect(bySource.get('198.51.100.20')).toEqual([other[0]!.id])
    expect(bySource.has('203.0.113.9')).toBe(false)
  })

  it('drops what outlived the age, reserved or not, and counts it apart', async () => {
    const store = await open()
    const old = [fromTylt({ receivedAt: 1_000 }), keep({ receivedAt: 1_001 })]
    const young = [fromTylt(), keep()]
    await store.add([...old, ...young])
    expect(await store.trim({ maxBytes: 1_000_000, cutoff: 2_000 })).toEqual({
      expired: 2,
      evicted: 0,
      evictedReserved: 0,
    })
    expect((await store.list(10)).map((r) => r.id).sort()).toEqual(young.map((r) => r.id).sort())
    expect(await store.stats()).toEqual({ count: 2, bytes: counted(young[0]!) + counted(young[1]!) })
  })

  it('gives back whether a request came from a verified source', async () => {
    const store = await open()
    const requests = [fromTylt(), keep()]
    await store.add(requests)
    for (const r of requests) {
      expect(await store.get(r.id)).toEqual(r)
      expect((await store.list(10)).find((s) => s.id === r.id)?.fromVerifiedSource).toBe(r.fromVerifiedSource)
    }
  })
})
