import { describe, expect, it, onTestFinished } from 'vitest'
import type { RelayEvent } from '../../src/core/event.js'
import { SqliteStore } from '../../src/store/sqlite-store.js'
import { relayEvent, tempDir } from '../helpers/index.js'

const EVENT: RelayEvent = relayEvent({
  id: 'evt_1',
  service: 's',
  acceptedAt: 1,
  signature: 'f',
  body: Buffer.from('{}'),
})

describe('SqliteStore statements', () => {
  // On Node 24, better-sqlite3 12 aborts the whole process when the garbage collector frees a statement
  // (`Assertion failed: (env) != nullptr` in ~Statement): with a statement prepared per call, this loop
  // took the vitest worker down within seconds there (test/node24/run.sh runs this file on Node 24). The
  // store itself stays reachable (OPENED in sqlite-store.ts); a statement prepared per call would not.
  it('survives many calls without leaving statements to the garbage collector', async () => {
    const store = new SqliteStore(tempDir())
    onTestFinished(() => store.close())
    store.append([EVENT])
    for (let i = 0; i < 100_000; i++) {
      store.stats()
      store.list({ limit: 5, state: 'pending' })
      store.get('evt_1')
      store.probe()
      if (i % 2_000 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
    expect(store.stats()).toMatchObject({ pending: 1, dead: 0 })
  }, 120_000)

  it('survives stores opened, used and closed many times while the garbage collector runs', async () => {
    // Tests, the CLI and a relay that restarts its store open and close connections: the statements of a
    // closed store, and the BEGIN/COMMIT that transaction() prepared for it, must not be left to the
    // collector either. The abort comes from the collector's callbacks that V8 runs from the event loop,
    // outside any JS context, so this allocates enough to make it collect and then lets the loop turn (a
    // forced gc() runs those callbacks inside the caller's context and does not abort). On Node 24.21 without
    // OPENED this loop aborted the process in each of 3 runs; with it, it ran to the end in each.
    const dir = tempDir()
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 50; i++) {
        const store = new SqliteStore(dir)
        store.append([{ ...EVENT, id: `evt_${round}_${i}` }])
        store.stats()
        store.close()
      }
      let garbage: number[][] | undefined = []
      for (let j = 0; j < 200; j++) garbage.push(new Array<number>(10_000).fill(j))
      garbage = undefined
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const store = new SqliteStore(dir)
    onTestFinished(() => store.close())
    expect(store.stats()).toMatchObject({ pending: 1_000 })
  }, 60_000)
})
