import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it, onTestFinished } from 'vitest'
import { STORE_FILE } from '../../src/constants.js'
import { NO_ANSWER } from '../../src/core/event.js'
import { openPostgresStore } from '../../src/store/postgres/open-postgres.js'
import { MIGRATIONS as PG_MIGRATIONS } from '../../src/store/postgres/schema.js'
import { MIGRATIONS } from '../../src/store/schema.js'
import { SqliteStore } from '../../src/store/sqlite-store.js'
import { tempDir } from '../helpers/index.js'
import { sql, testSchema } from '../postgres/postgres-helper.js'

// The schema versions before every attempt was kept: the migrations after these add `delivered` attempts.
const SQLITE_BEFORE = 4
const POSTGRES_BEFORE = 3

const EVENT = `INSERT INTO events (id, service, accepted_at, signature, body, state, retry_since)
  VALUES ('evt_p', 'demo', 1, 'sig', x'7b7d', 'pending', 1)`
const FAILED = { downstream: 'http://d/', outcome: 'failed', error: 'HTTP_500: busy' } as const
const DELIVERED = { durationMs: 9, status: 200, answer: 'ok' }

describe('the migration that keeps every attempt', () => {
  it('SQLite: keeps the failed attempts in order, then records a delivery after them', () => {
    const dataDir = tempDir()
    const old = new Database(join(dataDir, STORE_FILE))
    for (const migration of MIGRATIONS.slice(0, SQLITE_BEFORE)) old.exec(migration)
    old.exec(`PRAGMA user_version = ${SQLITE_BEFORE}`)
    old.exec(EVENT)
    // Rowids out of time order: the history is read by time, then by insertion.
    for (const at of [5, 3, 5])
      old.exec(`INSERT INTO attempts VALUES (1, ${at}, 'http://d/', 'failed', 'HTTP_500: busy')`)
    old.close()

    const store = new SqliteStore(dataDir)
    onTestFinished(() => store.close())
    expect(store.attempts('evt_p')).toEqual([3, 5, 5].map((at) => ({ at, ...FAILED, ...NO_ANSWER })))
    store.markDelivered([1], 7, 'http://d/', [DELIVERED])
    expect(store.attempts('evt_p').at(-1)).toEqual({
      at: 7,
      downstream: 'http://d/',
      outcome: 'delivered',
      error: null,
      ...DELIVERED,
    })
    const check = new Database(join(dataDir, STORE_FILE), { readonly: true })
    onTestFinished(() => {
      check.close()
    })
    expect(check.pragma('foreign_key_list(attempts)')).toMatchObject([
      { table: 'events', from: 'event_seq', to: 'seq', on_delete: 'CASCADE' },
    ])
    expect(check.pragma('index_list(attempts)')).toMatchObject([{ name: 'attempts_event' }])
    expect(check.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length)
  })

  it('PostgreSQL: keeps the failed attempts, then records a delivery after them', async () => {
    const { url, storeUrl } = await testSchema()
    await sql(url, 'CREATE TABLE tylt_schema (version integer NOT NULL)')
    for (const migration of PG_MIGRATIONS.slice(0, POSTGRES_BEFORE)) await sql(url, migration)
    await sql(url, `INSERT INTO tylt_schema VALUES (${POSTGRES_BEFORE})`)
    await sql(url, EVENT.replace('INTO events', 'INTO tylt_events').replace("x'7b7d'", "'\\x7b7d'"))
    for (const at of [3, 5])
      await sql(
        url,
        `INSERT INTO tylt_attempts (event_seq, at, downstream, outcome, error)
           VALUES (1, ${at}, 'http://d/', 'failed', 'HTTP_500: busy')`,
      )
    const store = await openPostgresStore(storeUrl)
    onTestFinished(() => store.close())
    expect(await store.attempts('evt_p')).toEqual([3, 5].map((at) => ({ at, ...FAILED, ...NO_ANSWER })))
    await store.markDelivered([1], 7, 'http://d/', [DELIVERED])
    expect((await store.attempts('evt_p')).map((a) => a.outcome)).toEqual(['failed', 'failed', 'delivered'])
    expect((await store.get('evt_p'))?.state).toBe('delivered')
    expect(await sql(url, 'SELECT version FROM tylt_schema')).toEqual([{ version: PG_MIGRATIONS.length }])
  })
})
