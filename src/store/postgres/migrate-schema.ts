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

/**
 * For the command line: the schema must be there already, at the version this relay knows. A command never
 * creates a store where the operator expected one (a mistyped URL), nor migrates one under running relays.
 */
export async function checkSchema(pool: pg.Pool, where: string): Promise<void> {
  const { rows: found } = await pool.query<{ table: string | null }>(
    `SELECT to_regclass('tylt_schema')::text AS table`,
  )
  const { rows } =
    found[0]?.table == null
      ? { rows: [] }
      : await pool.query<{ version: number | null }>('SELECT max(version) AS version FROM tylt_schema')
  const version = rows[0]?.version ?? null
  if (version === null) throw new Error(`no event store at ${where}; has the relay run there?`)
  if (version > MIGRATIONS.length) throw new StoreSchemaTooNewError(version, MIGRATIONS.length)
  if (version < MIGRATIONS.length) {
    throw new Error(
      `the store at ${where} is at schema version ${version}; start a relay of this version first, it migrates the store`,
    )
  }
}
