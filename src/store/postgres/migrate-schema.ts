import type pg from 'pg'
import { StoreSchemaTooNewError } from '../../errors.js'
import { inTransaction } from './in-transaction.js'
import { lockKey, MIGRATIONS } from './schema.js'

/**
 * Brings the schema to the newest version this relay knows, in one transaction under an advisory lock, so
 * that replicas starting at once migrate once: the others wait for the lock, then find nothing to do. A
 * schema newer than this relay knows is refused: an older relay could misread the rows of a newer one.
 * Returns the version.
 */
export async function migrateSchema(pool: pg.Pool): Promise<number> {
  return inTransaction(pool, async (client) => {
    await client.query(`SELECT pg_advisory_xact_lock(${lockKey('migrate')})`)
    await client.query('CREATE TABLE IF NOT EXISTS tylt_schema (version integer NOT NULL)')
    const { rows } = await client.query<{ version: number }>('SELECT version FROM tylt_schema')
    const version = rows[0]?.version ?? 0
    if (version > MIGRATIONS.length) throw new StoreSchemaTooNewError(version, MIGRATIONS.length)
    for (let v = version; v < MIGRATIONS.length; v++) await client.query(MIGRATIONS[v]!)
    if (rows.length === 0)
      await client.query('INSERT INTO tylt_schema (version) VALUES ($1)', [MIGRATIONS.length])
    else await client.query('UPDATE tylt_schema SET version = $1', [MIGRATIONS.length])
    return MIGRATIONS.length
  })
}
