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

// The schema versions before the `stored` state: SQLite's fourth migration and PostgreSQL's second add it.
const SQLITE_BEFORE = 3
const POSTGRES_BEFORE = 1

const ROW = `(id, service, accepted_at, signature, body, state, retry_since)`

describe('the migration that adds the stored state', () => {
  it('SQLite: keeps every event in its state, pending ones pending, and their attempts', () => {
    const dataDir = tempDir()
    const old = new Database(join(dataDir, STORE_FILE))
    for (const migration of MIGRATIONS.slice(0, SQLITE_BEFORE)) old.exec(migration)
    old.exec(`PRAGMA user_version = ${SQLITE_BEFORE}`)
    const insert = old.prepare(`INSERT INTO events ${ROW} VALUES (?, 'demo', 1, 'sig', x'7b7d', ?, 1)`)
    for (const [id, state] of [
      ['evt_p', 'pending'],
      ['evt_d', 'delivered'],
      ['evt_x', 'dead'],
    ])
      insert.run(id, state)
    old.exec(`INSERT INTO attempts VALUES (1, 5, 'redis://r', 'failed', 'ECONNREFUSED: down')`)
    old.close()

    // No service has a downstream now: what was pending stays pending all the same.
    const store = new SqliteStore(dataDir, { hasDownstream: () => false })
    onTestFinished(() => store.close())
    expect(store.list({ limit: 10 }).map((e) => [e.id, e.state])).toEqual([
      ['evt_x', 'dead'],
      ['evt_d', 'delivered'],
      ['evt_p', 'pending'],
    ])
    expect(store.attempts('evt_p')).toEqual([
      { at: 5, downstream: 'redis://r', outcome: 'failed', error: 'ECONNREFUSED: down', ...NO_ANSWER },
    ])
    expect(store.append([{ ...event('evt_new') }])).toEqual([true])
    expect(store.get('evt_new')?.state).toBe('stored')
    // The attempts still belong to the rebuilt table.
    const check = new Database(join(dataDir, STORE_FILE), { readonly: true })
    onTestFinished(() => {
      check.close()
    })
    expect(check.pragma('foreign_key_list(attempts)')).toMatchObject([
      { table: 'events', from: 'event_seq', to: 'seq', on_delete: 'CASCADE' },
    ])
    expect(check.pragma('foreign_key_check')).toEqual([])
  })

  it('PostgreSQL: keeps every event in its state, pending ones pending', async () => {
    const { url, storeUrl } = await testSchema()
    await sql(url, 'CREATE TABLE tylt_schema (version integer NOT NULL)')
    for (const migration of PG_MIGRATIONS.slice(0, POSTGRES_BEFORE)) await sql(url, migration)
    await sql(url, `INSERT INTO tylt_schema VALUES (${POSTGRES_BEFORE})`)
    await sql(
      url,
      `INSERT INTO tylt_events ${ROW} VALUES ('evt_p', 'demo', 1, 'sig', '\\x7b7d', 'pending', 1),
         ('evt_x', 'demo', 1, 'sig', '\\x7b7d', 'dead', 1)`,
    )
    const store = await openPostgresStore(storeUrl, { hasDownstream: () => false })
    onTestFinished(() => store.close())
    expect((await store.list({ limit: 10 })).map((e) => [e.id, e.state])).toEqual([
      ['evt_x', 'dead'],
      ['evt_p', 'pending'],
    ])
    expect(await store.append(event('evt_new'))).toBe(true)
    expect((await store.get('evt_new'))?.state).toBe('stored')
    expect(await sql(url, 'SELECT version FROM tylt_schema')).toEqual([{ version: PG_MIGRATIONS.length }])
  })
})

function event(id: string) {
  return {
    id,
    service: 'demo',
    acceptedAt: 2,
    signature: 'ab'.repeat(32),
    orderId: null,
    merchantOrderId: null,
    status: null,
    product: 'unknown' as const,
    final: 'unknown' as const,
    recovered: null,
    deadline: null,
    body: Buffer.from('{}'),
  }
}
