import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { STORE_FILE } from '../../src/constants.js'
import type { RelayEvent } from '../../src/core/event.js'
import { backupStore } from '../../src/store/backup-store.js'
import { GroupCommitStore } from '../../src/store/group-commit-store.js'
import { SqliteStore } from '../../src/store/sqlite-store.js'
import { tempDir } from '../helpers/index.js'

const event = (i: number): RelayEvent => ({
  id: `evt_${i}`,
  service: 'cpg',
  acceptedAt: 1_700_000_000_000 + i,
  signature: 'b'.repeat(64),
  orderId: `o-${i}`,
  merchantOrderId: null,
  status: 'Completed',
  product: 'cpg-pay-in',
  final: 'true',
  recovered: null,
  deadline: null,
  body: Buffer.from(`{"i":${i},"note":"caf\u00e9 \u20b9"}`),
})

function reader(dataDir: string): SqliteStore {
  const store = new SqliteStore(dataDir, { mustExist: true })
  onTestFinished(() => store.close())
  return store
}

describe('backupStore', () => {
  it('copies every event, log included, while the store is open and writing; the copy opens as a store', async () => {
    const dataDir = tempDir()
    const first = new GroupCommitStore(dataDir)
    await Promise.all([0, 1, 2, 3].map((i) => first.append(event(i))))
    await first.close()
    // Reopened, the next events live only in the write-ahead log until a checkpoint (every 500 events).
    const store = new GroupCommitStore(dataDir)
    onTestFinished(() => store.close())
    await Promise.all(Array.from({ length: 96 }, (_, i) => store.append(event(4 + i))))
    const [dead, delivered] = await store.pending({ limit: 2, maxBytes: 1e9 })
    await store.markRefused(dead!.seq, 1_700_000_100_000, 'http://consumer/', 'HTTP 413 Payload Too Large')
    await store.markDelivered([delivered!.seq], 1_700_000_100_000, 'http://consumer/')

    // What copying the database file alone gives: the log's events are missing.
    const naive = tempDir()
    copyFileSync(join(dataDir, STORE_FILE), join(naive, STORE_FILE))
    expect(reader(naive).list({ limit: 1000 }).length).toBeLessThan(100)

    const target = join(tempDir(), 'backup.sqlite')
    const summary = backupStore(dataDir, target)
    expect(summary).toEqual({
      source: join(dataDir, STORE_FILE),
      target,
      bytes: expect.any(Number),
      events: 100,
      pending: 98,
      dead: 1,
    })
    const restored = tempDir()
    copyFileSync(target, join(restored, STORE_FILE))
    const original = reader(dataDir).list({ limit: 1000 })
    expect(reader(restored).list({ limit: 1000 })).toEqual(original)
    expect(reader(restored).attempts(dead!.id)).toEqual(await store.attempts(dead!.id))
  })

  it('never overwrites a file, and leaves nothing behind when it cannot write', async () => {
    const dataDir = tempDir()
    const store = new GroupCommitStore(dataDir)
    await store.append(event(1))
    await store.close()
    const folder = tempDir()
    const existing = join(folder, 'backup.sqlite')
    writeFileSync(existing, 'an older backup')
    expect(() => backupStore(dataDir, existing)).toThrow(
      `${existing} exists; a backup never overwrites a file: give a new name`,
    )
    const missingFolder = join(folder, 'no-such-folder', 'backup.sqlite')
    expect(() => backupStore(dataDir, missingFolder)).toThrow(/ENOENT/)
    mkdirSync(join(folder, 'empty'))
    expect(() => backupStore(join(folder, 'empty'), join(folder, 'b.sqlite'))).toThrow(/no event store at/)
    expect(existsSync(join(folder, 'b.sqlite'))).toBe(false)
  })
})
