import { describe, expect, it, onTestFinished } from 'vitest'
import { SqliteStore } from '../../src/store/sqlite-store.js'
import { tempDir } from '../helper.js'

const kept: SqliteStore[] = []

describe('SqliteStore statements', () => {
  // On Node 24, better-sqlite3 12 aborts the whole process when the garbage collector frees a statement
  // (`Assertion failed: (env) != nullptr` in ~Statement): with a statement prepared per call, this loop
  // took the vitest worker down within seconds there (test/node24/run.sh runs this file on Node 24).
  it('survives many calls without leaving statements to the garbage collector', async () => {
    const store = new SqliteStore(tempDir())
    kept.push(store) // never garbage while this worker lives: its own statements must not be freed by GC
    onTestFinished(() => store.close())
    store.append([
      {
        id: 'evt_1',
        service: 's',
        acceptedAt: 1,
        signature: 'f',
        orderId: null,
        merchantOrderId: null,
        status: null,
        body: Buffer.from('{}'),
      },
    ])
    for (let i = 0; i < 100_000; i++) {
      store.stats()
      store.list({ limit: 5, state: 'pending' })
      store.get('evt_1')
      store.probe()
      if (i % 2_000 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
    expect(store.stats()).toMatchObject({ pending: 1, dead: 0 })
  }, 120_000)
})
