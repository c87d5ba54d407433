import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { QUARANTINE, QUARANTINE_FILE } from '../../src/constants.js'
import { requestBytes } from '../../src/core/quarantine-store.js'
import { SqliteQuarantineStore } from '../../src/quarantine/sqlite-quarantine-store.js'
import { tempDir } from '../helpers/index.js'
import { quarantineStore, refusedRequest } from './helpers.js'

const kept = (n: number, overrides = {}) => ({
  id: `q_${n}`,
  ...refusedRequest({ receivedAt: 1_000 + n, ...overrides }),
})

describe('SqliteQuarantineStore', () => {
  it('keeps each request byte for byte, with its headers, in its own file beside the events', async () => {
    const dir = tempDir()
    const store = quarantineStore(dir)
    const body = Buffer.from([0x00, 0xff, 0x7b, 0x0d, 0x0a, 0xc3, 0x28])
    await store.add([kept(1, { body, service: null, path: '/webhooks', signature: null, userAgent: null })])
    expect(store.file).toBe(join(dir, QUARANTINE_FILE))
    const got = await store.get('q_1')
    expect(got?.body.equals(body)).toBe(true)
    expect(got).toMatchObject({
      id: 'q_1',
      receivedAt: 1_001,
      reason: 'mismatch',
      path: '/webhooks',
      service: null,
    })
    expect(got).toMatchObject({ signature: null, contentType: 'application/json', userAgent: null })
    expect(got).not.toHaveProperty('bytes')
    expect(await store.get('q_nope')).toBeUndefined()
  })

  it('lists newest first without bodies; counts requests and their accounted bytes', async () => {
    const store = quarantineStore()
    await store.add([kept(1), kept(2)])
    await store.add([kept(3)])
    const listed = await store.list(2)
    expect(listed.map((r) => r.id)).toEqual(['q_3', 'q_2'])
    expect(listed[0]).not.toHaveProperty('body')
    expect(listed[0]!.bytes).toBe(kept(3).body.length)
    const each = requestBytes(kept(1), QUARANTINE.overheadBytes)
    expect(await store.stats()).toEqual({ count: 3, bytes: 3 * each })
  })

  it('removes by id or all, and says how many; the totals follow', async () => {
    const store = quarantineStore()
    await store.add([kept(1), kept(2), kept(3)])
    expect(await store.remove(['q_2', 'q_missing'])).toBe(1)
    expect((await store.list(10)).map((r) => r.id)).toEqual(['q_3', 'q_1'])
    expect(await store.remove('all')).toBe(2)
    expect(await store.stats()).toEqual({ count: 0, bytes: 0 })
  })

  it('trims what is older than the cutoff, then the oldest until the bytes fit with the reserve left free', async () => {
    const store = quarantineStore()
    await store.add([1, 2, 3, 4, 5, 6].map((n) => kept(n)))
    const each = requestBytes(kept(1), QUARANTINE.overheadBytes)
    expect(await store.trim({ maxBytes: 100 * each, cutoff: 1_003 })).toEqual({
      expired: 2,
      evicted: 0,
      evictedReserved: 0,
    })
    // A quarter of the bound stays free for reserved requests: 3 fit in 4, not 4.
    expect(await store.trim({ maxBytes: 4 * each, cutoff: 0 })).toMatchObject({ evicted: 1 })
    expect((await store.list(10)).map((r) => r.id)).toEqual(['q_6', 'q_5', 'q_4'])
    expect(await store.stats()).toEqual({ count: 3, bytes: 3 * each })
    expect(await store.trim({ maxBytes: 0, cutoff: 0 })).toMatchObject({ evicted: 3 })
    expect(await store.stats()).toEqual({ count: 0, bytes: 0 })
  })

  it('upgrades a file of the previous version: its requests kept, counted per source, not reserved', async () => {
    const dir = tempDir()
    const old = new Database(join(dir, QUARANTINE_FILE))
    old.exec(`CREATE TABLE requests (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, received_at INTEGER NOT NULL,
      reason TEXT NOT NULL, path TEXT NOT NULL, service TEXT, source_address TEXT NOT NULL, signature TEXT,
      content_type TEXT, user_agent TEXT, bytes INTEGER NOT NULL, body BLOB NOT NULL);
      CREATE TABLE totals (id INTEGER PRIMARY KEY CHECK (id = 1), count INTEGER NOT NULL, bytes INTEGER NOT NULL);
      INSERT INTO requests VALUES (1, 'q_old', 5, 'mismatch', '/webhooks/cpg', 'cpg', '203.0.113.7', NULL, NULL, NULL, 300, x'7b7d');
      INSERT INTO totals VALUES (1, 1, 300);`)
    old.close()
    const store = quarantineStore(dir)
    expect(await store.get('q_old')).toMatchObject({ id: 'q_old', fromVerifiedSource: false })
    await store.add([kept(1, { fromVerifiedSource: true })])
    const each = requestBytes(kept(1), QUARANTINE.overheadBytes)
    expect(await store.stats()).toEqual({ count: 2, bytes: 300 + each })
    // The old request is not reserved: it goes first, the verified source's stays.
    expect(await store.trim({ maxBytes: each, cutoff: 0 })).toEqual({
      expired: 0,
      evicted: 1,
      evictedReserved: 0,
    })
    expect((await store.list(10)).map((r) => r.id)).toEqual(['q_1'])
  })

  it('a command that must not create one refuses a missing file', () => {
    expect(() => new SqliteQuarantineStore(tempDir(), { mustExist: true })).toThrow(/no quarantine/)
  })

  it('a damaged file is moved aside and a new quarantine started: it never stops the relay', async () => {
    const dir = tempDir()
    writeFileSync(join(dir, QUARANTINE_FILE), Buffer.alloc(8192, 0x41))
    const store = quarantineStore(dir)
    await store.add([kept(1)])
    expect((await store.stats()).count).toBe(1)
  })

  it('a write while another connection holds the lock fails at once instead of waiting', async () => {
    const dir = tempDir()
    const store = quarantineStore(dir)
    const other = new Database(join(dir, QUARANTINE_FILE))
    other.exec('BEGIN EXCLUSIVE')
    await expect(store.add([kept(1)])).rejects.toMatchObject({ code: 'SQLITE_BUSY' })
    other.exec('ROLLBACK')
    other.close()
    await store.add([kept(1)])
    expect((await store.stats()).count).toBe(1)
  })
})
