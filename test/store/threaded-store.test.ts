import { describe, expect, it, onTestFinished } from 'vitest'
import { SqliteStore } from '../../src/store/sqlite-store.js'
import { ThreadedStore } from '../../src/store/threaded-store.js'
import type { NewEvent } from '../../src/store/types.js'
import { tempDir } from '../helper.js'

const event = (i: number, service = 'cpg', acceptedAt = 1_700_000_000_000 + i): NewEvent => ({
  id: `evt_${service}_${i}`,
  service,
  acceptedAt,
  signature: 'a'.repeat(64),
  orderId: `o-${i}`,
  merchantOrderId: null,
  status: 'Completed',
  body: Buffer.from(`{"i":${i},"bytes":"\u00e9\u20b9"}`),
})

async function open(dir = tempDir()) {
  const store = await ThreadedStore.open(dir)
  onTestFinished(() => store.close())
  return { store, dir }
}

describe('ThreadedStore', () => {
  it('commits concurrent appends together, each resolving once durable, duplicates flagged', async () => {
    const { store, dir } = await open()
    const results = await Promise.all([
      ...Array.from({ length: 200 }, (_, i) => store.append(event(i))),
      store.append(event(7)),
    ])
    expect(results.filter(Boolean)).toHaveLength(200)
    expect(results.at(-1)).toBe(false)
    const reader = new SqliteStore(dir)
    onTestFinished(() => reader.close())
    expect(reader.list({ limit: 1000 })).toHaveLength(200)
  })

  it('keeps bodies byte-exact and returns pending events in acceptance order', async () => {
    const { store } = await open()
    for (let i = 0; i < 5; i++) await store.append(event(i))
    const pending = await store.pending(10)
    expect(pending.map((e) => e.id)).toEqual([0, 1, 2, 3, 4].map((i) => `evt_cpg_${i}`))
    expect(Buffer.isBuffer(pending[0]!.body)).toBe(true)
    expect(pending[3]!.body.equals(event(3).body)).toBe(true)
    expect(await store.pending(2)).toHaveLength(2)
  })

  it('marks delivered, records failures, expires old pending events and prunes delivered ones', async () => {
    const { store, dir } = await open()
    for (let i = 0; i < 4; i++) await store.append(event(i, 'cpg', 1_000 + i))
    const [a, b, c] = await store.pending(3)
    await store.markDelivered([a!.seq], 5_000)
    await store.recordFailure(b!.seq, 5_000, 'HTTP 503')
    expect(await store.stats()).toEqual({ pending: 3, dead: 0, oldestPendingAt: 1_001 })
    expect(await store.expire(1_003, 'downstream down')).toBe(2) // b and c: retry clock started before 1003
    expect(await store.stats()).toEqual({ pending: 1, dead: 2, oldestPendingAt: 1_003 })
    expect(await store.prune(1_001)).toBe(1)
    const reader = new SqliteStore(dir)
    onTestFinished(() => reader.close())
    expect(reader.get(a!.id)).toBeUndefined()
    expect(reader.get(b!.id)).toMatchObject({ state: 'dead', attempts: 1, lastError: 'HTTP 503' })
    expect(reader.get(c!.id)).toMatchObject({ state: 'dead', lastError: 'downstream down' })
    expect(reader.replay([b!.id, c!.id], 9_000)).toEqual({ queued: 2, missing: [] })
    expect(reader.get(b!.id)).toMatchObject({ state: 'pending', retrySince: 9_000 })
  })

  it('keeps what it committed across a reopen', async () => {
    const dir = tempDir()
    const first = await ThreadedStore.open(dir)
    await first.append(event(1))
    await first.close()
    const { store } = await open(dir)
    expect((await store.pending(10)).map((e) => e.id)).toEqual(['evt_cpg_1'])
    expect(await store.append(event(1))).toBe(false)
  })

  it('refuses appends once closed, and readiness probes fail', async () => {
    const { store } = await open()
    await store.close()
    await expect(store.append(event(1))).rejects.toMatchObject({ code: 'TYLT_STORE_CLOSED', statusCode: 503 })
    await expect(store.probe()).rejects.toThrow()
  })
})
