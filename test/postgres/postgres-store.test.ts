import { createServer } from 'node:net'
import pino from 'pino'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { RelayEvent } from '../../src/core/event.js'
import { openPostgresStore } from '../../src/store/postgres/open-postgres.js'
import { PostgresLease } from '../../src/store/postgres/postgres-lease.js'
import { LOCK, MIGRATIONS } from '../../src/store/postgres/schema.js'
import { eventually, relayEvent, SECRETS, sleep, tempDir } from '../helpers/index.js'
import { runCli } from '../helpers/relay-process.js'
import { sql, testSchema } from './postgres-helper.js'

const event = (i: number, tag = 'a'): RelayEvent =>
  relayEvent({
    id: `evt_${tag}_${i}`,
    service: 'cpg',
    acceptedAt: 1_700_000_000_000 + i,
    signature: 'ab'.repeat(32),
    body: Buffer.from(`{"i":${i}}`),
  })

async function openStore(url: Awaited<ReturnType<typeof testSchema>>['storeUrl']) {
  const store = await openPostgresStore(url)
  onTestFinished(() => store.close())
  return store
}

function openLease(url: Awaited<ReturnType<typeof testSchema>>['storeUrl']) {
  const lease = new PostgresLease(url, pino({ level: 'silent' }))
  onTestFinished(() => lease.close())
  return lease
}

describe('PostgreSQL store', () => {
  it('never lets a lower seq become visible after a higher one, whichever replica commits first', async () => {
    const { storeUrl, url } = await testSchema()
    const replicas = [await openStore(storeUrl), await openStore(storeUrl), await openStore(storeUrl)]
    const seen: { max: number; count: number }[] = []
    let writing = true
    const reader = (async () => {
      while (writing) {
        const [row] = await sql(
          url,
          'SELECT coalesce(max(seq), 0)::float8 AS max, count(*)::int AS count FROM tylt_events',
        )
        seen.push(row as { max: number; count: number })
      }
    })()
    // At least 40 rounds per replica, and on until the reader has looked often enough, however slow the
    // machine: a reading taken while nothing was written would prove nothing.
    let appended = 0
    await Promise.all(
      replicas.map(async (store, r) => {
        for (let round = 0; round < 400 && (round < 40 || seen.length <= 5); round++) {
          await Promise.all(
            Array.from({ length: 10 }, (_, i) => store.append(event(round * 10 + i, `r${r}`))),
          )
          appended += 10
        }
      }),
    )
    writing = false
    await reader
    expect(seen.length).toBeGreaterThan(5)
    const final = (await sql(url, 'SELECT seq::float8 AS seq FROM tylt_events')).map((r) => r.seq as number)
    expect(final).toHaveLength(appended)
    expect(appended).toBeGreaterThanOrEqual(1_200)
    for (const { max, count } of seen) expect(final.filter((seq) => seq <= max).length).toBe(count)
  })

  it('commits the appends of one moment together, each answered after its commit, in one statement', async () => {
    const commits: number[] = []
    const store = await openPostgresStore((await testSchema()).storeUrl, {
      observer: { onCommitted: (n) => commits.push(n) },
    })
    onTestFinished(() => store.close())
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => store.append(event(i))))
    expect(results.every(Boolean)).toBe(true)
    expect(commits.reduce((sum, n) => sum + n, 0)).toBe(200)
    // Two statements in flight at most: the first takes what one turn queued, the second the rest.
    expect(commits.length).toBeLessThanOrEqual(3)
  })

  it('refuses a schema newer than it knows, and so does a relay starting on it', async () => {
    const { storeUrl, url } = await testSchema()
    await (await openPostgresStore(storeUrl)).close()
    await sql(url, 'UPDATE tylt_schema SET version = $1', [MIGRATIONS.length + 1])
    await expect(openPostgresStore(storeUrl)).rejects.toMatchObject({ code: 'TYLT_STORE_SCHEMA_TOO_NEW' })
    const relay = await runCli(['serve'], {
      TYLT_SECRET_CPG: SECRETS.cpg,
      DATA_DIR: tempDir(),
      STORE_URL: url,
      PORT: '0',
      OPS_PORT: '0',
    })
    expect(relay.code).toBe(1)
    // The relay listens before the database is open (docs/postgres.md): the refusal is its fatal log line.
    expect(relay.stdout + relay.stderr).toContain(
      `schema version ${MIGRATIONS.length + 1}, newer than this relay knows (${MIGRATIONS.length})`,
    )
  })

  it('exits when it cannot listen, instead of hanging on its open connections', async () => {
    const { url } = await testSchema()
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    onTestFinished(() => new Promise<void>((resolve) => taken.close(() => resolve())))
    const port = String((taken.address() as { port: number }).port)
    const env = {
      TYLT_SECRET_CPG: SECRETS.cpg,
      DATA_DIR: tempDir(),
      STORE_URL: url,
      HOST: '127.0.0.1',
      PORT: port,
      OPS_PORT: '0',
    }
    const relay = await runCli(['serve'], env)
    expect(relay.code).toBe(1)
    expect(relay.stderr).toContain('EADDRINUSE')
  }, 45_000)

  it('lets the command line read only a store that exists, at the schema it knows, creating nothing', async () => {
    const { url, storeUrl } = await testSchema()
    const empty = await runCli(['events', 'list'], { STORE_URL: url })
    expect(empty.code).toBe(1)
    expect(empty.stderr).toContain(
      'no event store at postgres://127.0.0.1:5432/test; has the relay run there?',
    )
    expect(
      await sql(
        url,
        `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`,
      ),
    ).toEqual([])
    await (await openPostgresStore(storeUrl)).close()
    await sql(url, 'UPDATE tylt_schema SET version = 0')
    const old = await runCli(['events', 'list'], { STORE_URL: url })
    expect(old.code).toBe(1)
    expect(old.stderr).toContain('is at schema version 0; start a relay of this version first')
    await sql(url, 'UPDATE tylt_schema SET version = $1', [MIGRATIONS.length])
    expect(await runCli(['events', 'list'], { STORE_URL: url })).toMatchObject({
      code: 0,
      stdout: 'no events\n',
    })
  })

  it('gives the forwarding lease to one holder at a time, and to another once it is let go', async () => {
    const { storeUrl } = await testSchema()
    await (await openPostgresStore(storeUrl)).close()
    const first = openLease(storeUrl)
    await eventually(
      async () => first.held,
      (held) => held,
    )
    const second = openLease(storeUrl)
    await sleep(1_500)
    expect(second.held).toBe(false)
    let woken = 0
    second.onWake(() => woken++)
    await first.close()
    await eventually(
      async () => second.held,
      (held) => held,
      5_000,
    )
    expect(woken).toBe(1)
  })

  it('gives the lease up at once when its session is cut, and takes it again', async () => {
    const { storeUrl, url, schema } = await testSchema()
    await (await openPostgresStore(storeUrl)).close()
    const lease = openLease(storeUrl)
    await eventually(
      async () => lease.held,
      (held) => held,
    )
    const [holder] = await sql(
      url,
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1
         AND objid = (hashtext($2)::bigint & 4294967295)::text::oid`,
      [LOCK.forward, schema],
    )
    expect(holder).toBeDefined()
    await sql(url, 'SELECT pg_terminate_backend($1)', [holder!.pid])
    await eventually(
      async () => lease.held,
      (held) => !held,
      3_000,
    )
    await eventually(
      async () => lease.held,
      (held) => held,
      5_000,
    )
  })

  it('wakes the lease holder when any replica accepts an event or queues one again', async () => {
    const { storeUrl } = await testSchema()
    const store = await openStore(storeUrl)
    const lease = openLease(storeUrl)
    await eventually(
      async () => lease.held,
      (held) => held,
    )
    let woken = 0
    lease.onWake(() => woken++)
    await store.append(event(1))
    await eventually(
      async () => woken,
      (n) => n === 1,
    )
    expect(await store.append(event(1))).toBe(false)
    await sleep(300)
    expect(woken).toBe(1)
    await store.replay([event(1).id], Date.now())
    await eventually(
      async () => woken,
      (n) => n === 2,
    )
  })

  it('wakes no lease holder of another schema of the same database', async () => {
    const ours = await openStore((await testSchema()).storeUrl)
    const { storeUrl: otherUrl } = await testSchema()
    const other = await openStore(otherUrl)
    const otherLease = openLease(otherUrl)
    await eventually(
      async () => otherLease.held,
      (held) => held,
    )
    let woken = 0
    otherLease.onWake(() => woken++)
    await ours.append(event(1))
    await ours.replay([event(1).id], Date.now())
    await other.append(event(2))
    await eventually(
      async () => woken,
      (n) => n >= 1,
    )
    await sleep(300)
    expect(woken).toBe(1)
  })

  it('hands pending events only to the holder of the lease it was given', async () => {
    const { storeUrl } = await testSchema()
    const { PostgresStore } = await import('../../src/store/postgres/postgres-store.js')
    const { createPool } = await import('../../src/store/postgres/create-pool.js')
    await (await openPostgresStore(storeUrl)).close()
    const lease = { held: false, holderSilentMs: 0, onWake: () => {}, close: async () => {} }
    const store = new PostgresStore(createPool(storeUrl), { lease })
    onTestFinished(() => store.close())
    await store.append(event(1))
    expect(await store.pending({ limit: 10, maxBytes: 1_000 })).toEqual([])
    lease.held = true
    expect((await store.pending({ limit: 10, maxBytes: 1_000 })).map((e) => e.id)).toEqual([event(1).id])
  })
})
