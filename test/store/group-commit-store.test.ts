import { fdatasync, fstatSync, statSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it, onTestFinished } from 'vitest'
import { STORE_FILE } from '../../src/constants.js'
import type { RelayEvent } from '../../src/core/event.js'
import {
  type GroupCommitOptions,
  GroupCommitStore,
  type SyncFile,
} from '../../src/store/group-commit-store.js'
import { SqliteStore } from '../../src/store/sqlite-store.js'
import { STORE_MAX_WAITING } from '../../src/store/store-tuning.js'
import { tempDir } from '../helpers/index.js'

const event = (i: number, service = 'cpg', acceptedAt = 1_700_000_000_000 + i): RelayEvent => ({
  id: `evt_${service}_${i}`,
  service,
  acceptedAt,
  signature: 'a'.repeat(64),
  orderId: `o-${i}`,
  merchantOrderId: null,
  status: 'Completed',
  product: 'unknown',
  final: 'unknown',
  recovered: null,
  deadline: null,
  body: Buffer.from(`{"i":${i},"bytes":"\u00e9\u20b9"}`),
})

function open(dir = tempDir(), sync?: SyncFile, options: GroupCommitOptions = {}) {
  const store = new GroupCommitStore(dir, { sync, ...options })
  onTestFinished(() => store.close())
  return { store, dir }
}

/** A sync that records each call and runs it only when the test says so. */
function heldSync() {
  const calls: Array<{ fd: number; release(err?: NodeJS.ErrnoException): void }> = []
  const sync: SyncFile = (fd, callback) => {
    calls.push({ fd, release: (err) => (err ? callback(err) : fdatasync(fd, callback)) })
  }
  return { sync, calls }
}

/** A store on a fresh folder whose log syncs wait for the test (see heldSync). */
function openHeld(options: GroupCommitOptions = {}) {
  const { sync, calls } = heldSync()
  return { ...open(tempDir(), sync, options), calls }
}

const settled = async (promise: Promise<unknown>) => {
  let done = false
  void promise.then(
    () => (done = true),
    () => (done = true),
  )
  await new Promise((resolve) => setTimeout(resolve, 20))
  return done
}

describe('GroupCommitStore', () => {
  it('commits concurrent appends together, each resolving once durable, duplicates flagged', async () => {
    const { store, dir } = open()
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
    const { store } = open()
    for (let i = 0; i < 5; i++) await store.append(event(i))
    const pending = await store.pending({ limit: 10, maxBytes: 1e9 })
    expect(pending.map((e) => e.id)).toEqual([0, 1, 2, 3, 4].map((i) => `evt_cpg_${i}`))
    expect(Buffer.isBuffer(pending[0]!.body)).toBe(true)
    expect(pending[3]!.body.equals(event(3).body)).toBe(true)
    expect(await store.pending({ limit: 2, maxBytes: 1e9 })).toHaveLength(2)
  })

  it('marks delivered, records failures, expires old pending events and prunes delivered ones', async () => {
    const { store, dir } = open()
    for (let i = 0; i < 4; i++) await store.append(event(i, 'cpg', 1_000 + i))
    const [a, b, c] = await store.pending({ limit: 3, maxBytes: 1e9 })
    await store.markDelivered([a!.seq], 5_000, 'http://down')
    await store.recordFailure(b!.seq, 5_000, 'http://down', 'HTTP 503')
    expect(await store.stats()).toEqual({ pending: 3, dead: 0, oldestPendingAt: 1_001 })
    expect(await store.expire(1_003, 'http://down', 'downstream down')).toBe(2) // b and c: retry clock started before 1003
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
    const first = new GroupCommitStore(dir)
    await first.append(event(1))
    await first.close()
    const { store } = open(dir)
    expect((await store.pending({ limit: 10, maxBytes: 1e9 })).map((e) => e.id)).toEqual(['evt_cpg_1'])
    expect(await store.append(event(1))).toBe(false)
  })

  it('refuses appends once closed, and readiness probes fail', async () => {
    const { store } = open()
    await store.close()
    await expect(store.append(event(1))).rejects.toMatchObject({ code: 'TYLT_STORE_CLOSED', statusCode: 503 })
    await expect(store.probe()).rejects.toThrow()
  })

  it('groups concurrent appends into fewer commits, and reports each commit size', async () => {
    const commits: number[] = []
    const { store } = open(tempDir(), undefined, {
      observer: { onCommitted: (events) => commits.push(events) },
    })
    await Promise.all(Array.from({ length: 300 }, (_, i) => store.append(event(i))))
    expect(commits.reduce((a, b) => a + b, 0)).toBe(300)
    expect(commits.length).toBeLessThan(300)
  })

  it('refuses appends past STORE_MAX_WAITING instead of queueing without bound', async () => {
    const { store } = open()
    const appends = Array.from({ length: STORE_MAX_WAITING + 1 }, (_, i) => store.append(event(i)))
    const results = await Promise.allSettled(appends)
    expect(results.slice(0, STORE_MAX_WAITING).every((r) => r.status === 'fulfilled')).toBe(true)
    expect(results.at(-1)).toMatchObject({
      status: 'rejected',
      reason: { code: 'TYLT_STORE_UNAVAILABLE', statusCode: 503 },
    })
    expect(await store.append(event(STORE_MAX_WAITING + 5))).toBe(true)
  })
})

describe('GroupCommitStore durability', () => {
  it('syncs the write-ahead log itself, after the commit is written, and answers only after the sync', async () => {
    const dir = tempDir()
    const reader = new SqliteStore(dir)
    onTestFinished(() => reader.close())
    const seenAtSync: number[] = []
    const { sync, calls } = heldSync()
    const { store } = open(dir, (fd, callback) => {
      seenAtSync.push(reader.list({ limit: 10 }).length)
      sync(fd, callback)
    })
    const append = store.append(event(1))
    await expect.poll(() => calls.length).toBe(1)
    // The descriptor synced is the log SQLite writes, and the commit was in it before the sync started.
    expect(fstatSync(calls[0]!.fd).ino).toBe(statSync(join(dir, `${STORE_FILE}-wal`)).ino)
    expect(seenAtSync).toEqual([1])
    expect(await settled(append)).toBe(false)
    calls[0]!.release()
    expect(await append).toBe(true)
  })

  it('keeps two syncs in flight; a later sync that ends first makes the earlier commit durable too', async () => {
    const { store, calls } = openHeld()
    const first = store.append(event(1))
    await expect.poll(() => calls.length).toBe(1)
    const second = store.append(event(2))
    await expect.poll(() => calls.length).toBe(2)
    // At the limit: a third append waits for a sync to end before its commit starts.
    const third = store.append(event(3))
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(calls).toHaveLength(2)
    calls[1]!.release()
    expect(await Promise.all([first, second])).toEqual([true, true])
    await expect.poll(() => calls.length).toBe(3)
    // The first sync ending now proves nothing about the third commit, written after it started.
    calls[0]!.release()
    expect(await settled(third)).toBe(false)
    calls[2]!.release()
    expect(await third).toBe(true)
  })

  it('counts appends whose sync is in flight toward STORE_MAX_WAITING', async () => {
    const { store, calls } = openHeld()
    const held = Array.from({ length: STORE_MAX_WAITING }, (_, i) => store.append(event(i)))
    await expect.poll(() => calls.length).toBe(1)
    await expect(store.append(event(STORE_MAX_WAITING))).rejects.toMatchObject({
      code: 'TYLT_STORE_UNAVAILABLE',
      statusCode: 503,
    })
    calls[0]!.release()
    expect((await Promise.all(held)).every(Boolean)).toBe(true)
    const next = store.append(event(STORE_MAX_WAITING + 1))
    await expect.poll(() => calls.length).toBe(2)
    calls[1]!.release()
    expect(await next).toBe(true)
  })

  it('after a failed sync refuses what it had not acknowledged and everything after, and reports it once', async () => {
    const failures: Error[] = []
    const { store, calls } = openHeld({ onFailure: (err) => failures.push(err) })
    const append = store.append(event(1))
    await expect.poll(() => calls.length).toBe(1)
    calls[0]!.release(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }))
    await expect(append).rejects.toMatchObject({ code: 'TYLT_STORE_UNAVAILABLE', statusCode: 503 })
    await expect(store.append(event(2))).rejects.toMatchObject({ code: 'TYLT_STORE_UNAVAILABLE' })
    await expect(store.probe()).rejects.toThrow()
    await expect(store.pending({ limit: 10, maxBytes: 1e9 })).rejects.toThrow()
    expect(failures.map((e) => (e as NodeJS.ErrnoException).code)).toEqual(['EIO'])
    expect(calls).toHaveLength(1)
  })
})

const keptForWorker: unknown[] = []

describe('SqliteStore indexes', () => {
  it('lists dead letters and prunes delivered events through partial indexes, not a table scan', () => {
    const dir = tempDir()
    new SqliteStore(dir).close()
    const db = new Database(join(dir, STORE_FILE), { readonly: true })
    onTestFinished(() => {
      db.close()
    })
    // Kept reachable, as SqliteStore keeps its own (see OPENED there): on Node 24, better-sqlite3 12 aborts
    // the worker when the garbage collector frees a statement.
    const prepare = (sql: string) => {
      const statement = db.prepare(sql)
      keptForWorker.push(db, statement)
      return statement
    }
    const plan = (sql: string) =>
      (prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join('; ')
    expect(plan("SELECT * FROM events WHERE state = 'dead' ORDER BY seq DESC LIMIT 50")).toContain(
      'events_dead',
    )
    expect(plan("SELECT count(*) FROM events WHERE state = 'dead'")).toContain('events_dead')
    expect(plan("DELETE FROM events WHERE state = 'delivered' AND accepted_at < 5")).toContain(
      'events_delivered',
    )
    expect(plan("SELECT * FROM events WHERE state = 'pending' ORDER BY seq LIMIT 10")).toContain(
      'events_pending',
    )
    const indexes = prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'")
      .pluck()
      .all()
    // The webhook path inserts pending or stored events: only the id index and the index of the state an
    // event takes (and no others) take work.
    expect(indexes.sort()).toEqual([
      'events_dead',
      'events_delivered',
      'events_pending',
      'events_stored',
      'sqlite_autoindex_events_1',
    ])
  })
})

describe('GroupCommitStore: a dead letter appended again', () => {
  it('is revived and reported as new, once, while pending and delivered ids stay duplicates', async () => {
    const { store } = open()
    await Promise.all([0, 1, 2].map((i) => store.append(event(i))))
    const [dead, delivered] = await store.pending({ limit: 2, maxBytes: 1e9 })
    await store.markRefused(dead!.seq, 1_800_000_000_000, 'd', 'HTTP 422 Unprocessable Entity')
    await store.markDelivered([delivered!.seq], 1_800_000_000_000, 'd')
    const later = { ...event(0), acceptedAt: 1_900_000_000_000 }
    expect(await Promise.all([store.append(later), store.append(later)])).toEqual([true, false])
    expect(await store.append(event(1))).toBe(false)
    expect(await store.append(event(2))).toBe(false)
    expect(await store.get(dead!.id)).toMatchObject({
      state: 'pending',
      retrySince: 1_900_000_000_000,
      acceptedAt: event(0).acceptedAt,
      lastError: 'HTTP 422 Unprocessable Entity',
    })
    expect((await store.get(delivered!.id))?.state).toBe('delivered')
    expect((await store.pending({ limit: 10, maxBytes: 1e9 })).map((e) => e.id)).toEqual([
      dead!.id,
      event(2).id,
    ])
  })
})
