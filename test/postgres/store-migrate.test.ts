import { describe, expect, it } from 'vitest'
import { StoreUrl } from '../../src/config/store-url.js'
import type { RelayEvent } from '../../src/core/event.js'
import type { EventStore } from '../../src/core/event-store.js'
import { GroupCommitStore } from '../../src/store/group-commit-store.js'
import { openPostgresStore } from '../../src/store/postgres/open-postgres.js'
import { eventually, SECRETS, sign, tempDir } from '../helpers/index.js'
import { listEvents, post, runCli, startRelay } from '../helpers/relay-process.js'
import { sql, testSchema } from './postgres-helper.js'
import { callbacks, idOf, redisStream, replica } from './replica-helpers.js'

const PASSWORD = 'pw-never-printed-81c2'

const asEvent = (body: Buffer, i: number): RelayEvent => ({
  id: idOf(body),
  service: 'cpg',
  acceptedAt: Date.now() - 60_000 + i,
  signature: sign(SECRETS.cpg, body),
  orderId: `o-${i}`,
  merchantOrderId: null,
  status: 'Completed',
  product: 'cpg-pay-in',
  final: 'true',
  recovered: null,
  deadline: null,
  body,
})

/** 30 events in DATA_DIR: 10 delivered (with their answers), 5 refused (dead), 15 pending of which 3 failed twice. */
async function sqliteStoreWithHistory(dataDir: string) {
  const store = new GroupCommitStore(dataDir)
  const bodies = callbacks(30)
  for (const [i, body] of bodies.entries()) await store.append(asEvent(body, i))
  const all = await store.pending({ limit: 100, maxBytes: 1 << 24 })
  await store.markDelivered(
    all.slice(0, 10).map((e) => e.seq),
    Date.now(),
    'redis://old',
    all.slice(0, 10).map((_, i) => ({ durationMs: i, status: null, answer: `1-${i}` })),
  )
  for (const e of all.slice(10, 15))
    await store.markRefused(e.seq, Date.now(), 'redis://old', 'refused by downstream')
  for (const e of all.slice(15, 18)) {
    await store.recordFailure(e.seq, Date.now(), 'redis://old', 'timeout 1')
    await store.recordFailure(e.seq, Date.now() + 1, 'redis://old', 'timeout 2')
  }
  await store.close()
  return all.slice(15).map((e) => e.id)
}

async function everything(store: EventStore) {
  const events = (await store.list({ limit: 1_000 })).reverse()
  return Promise.all(events.map(async (e) => ({ ...e, history: await store.attempts(e.id) })))
}

describe('tylt-relay store migrate', () => {
  it('moves a SQLite store with pending and dead events into PostgreSQL, losing nothing; forwarding resumes', async () => {
    const dataDir = tempDir()
    const pendingIds = await sqliteStoreWithHistory(dataDir)
    const { url } = await testSchema()
    const target = url.replace('postgres@', `postgres:${PASSWORD}@`)
    const env = { DATA_DIR: dataDir, STORE_URL: target }

    const migrated = await runCli(['store', 'migrate'], env)
    expect(migrated.stderr).toBe('')
    expect(migrated.code).toBe(0)
    expect(migrated.stdout).toContain('copied 30 event(s) (15 pending, 5 dead) and 21 attempt(s)')
    expect(migrated.stdout).not.toContain(PASSWORD)

    const sqlite = new GroupCommitStore(dataDir, { mustExist: true })
    const expected = await everything(sqlite)
    await sqlite.close()
    const postgres = await openPostgresStore(new StoreUrl(url))
    expect(await everything(postgres)).toEqual(expected)
    await postgres.close()

    const again = await runCli(['store', 'migrate', '--to', target], { DATA_DIR: dataDir })
    expect(again.code).toBe(1)
    expect(again.stderr).toContain('already holds 30 event(s)')
    expect(again.stderr).not.toContain(PASSWORD)

    const stream = redisStream()
    const relay = await replica(target, stream.forwardUrl)
    await eventually(stream.ids, (ids) => ids.length >= pendingIds.length)
    const [fresh] = callbacks(1)
    expect(await post(`${relay.url}/webhooks/cpg`, fresh!, sign(SECRETS.cpg, fresh!))).toEqual({
      status: 200,
      body: 'ok',
    })
    await eventually(stream.ids, (ids) => ids.length === pendingIds.length + 1)
    expect(await stream.ids()).toEqual([...pendingIds, idOf(fresh!)])

    // The command line reads and replays the same store: the dead letters go out too.
    expect((await listEvents({ STORE_URL: target }, 'dead')).map((e) => e.id)).toHaveLength(5)
    const replayed = await runCli(['events', 'replay', '--dead'], { STORE_URL: target })
    expect(replayed.stdout).toContain('queued 5 dead letter(s)')
    await eventually(stream.ids, (ids) => ids.length === pendingIds.length + 6)
    expect(relay.output()).not.toContain(PASSWORD)
  }, 60_000)

  it('refuses while a relay runs on DATA_DIR, copying nothing, and migrates once it has stopped', async () => {
    const dataDir = tempDir()
    const relay = await startRelay({ TYLT_SECRET_CPG: SECRETS.cpg, DATA_DIR: dataDir })
    const [body] = callbacks(1)
    expect((await post(`${relay.url}/webhooks/cpg`, body!, sign(SECRETS.cpg, body!))).status).toBe(200)
    const { url } = await testSchema()

    const refused = await runCli(['store', 'migrate', '--to', url], { DATA_DIR: dataDir })
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(
      `DATA_DIR ${dataDir} is in use by a running tylt-relay (pid ${relay.child.pid}`,
    )
    expect(refused.stderr).toContain('stop it before store migrate')
    expect(refused.stdout).toBe('')
    expect(
      await sql(
        url,
        `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`,
      ),
    ).toEqual([])

    expect(await relay.stop()).toBe(0)
    const migrated = await runCli(['store', 'migrate', '--to', url], { DATA_DIR: dataDir })
    expect(migrated.stderr).toBe('')
    expect(migrated.stdout).toContain('copied 1 event(s)')
    // The lock went with the command: a relay starts on DATA_DIR again.
    await startRelay({ TYLT_SECRET_CPG: SECRETS.cpg, DATA_DIR: dataDir })
  }, 45_000)

  it('refuses without a target, and names no password when the target is unreachable', async () => {
    const dataDir = tempDir()
    await sqliteStoreWithHistory(dataDir)
    const none = await runCli(['store', 'migrate'], { DATA_DIR: dataDir })
    expect(none.code).toBe(2)
    expect(none.stderr).toContain('store migrate needs --to postgres://... or STORE_URL')
    const unreachable = await runCli(
      ['store', 'migrate', '--to', `postgres://u:${PASSWORD}@127.0.0.1:1/db`],
      {
        DATA_DIR: dataDir,
      },
    )
    expect(unreachable.code).toBe(1)
    expect(unreachable.stderr).not.toContain(PASSWORD)
    const unknown = await runCli(['store', 'shrink'], { DATA_DIR: dataDir })
    expect(unknown.code).toBe(2)
  })
})
