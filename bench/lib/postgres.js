// A fresh schema on the PostgreSQL the bench measures against (BENCH_PG_URL, by default the local server's
// `postgres` database with trust authentication), dropped after its run.
import { randomBytes } from 'node:crypto'
import pg from 'pg'

const SERVER = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

async function query(text) {
  const client = new pg.Client({ connectionString: SERVER })
  await client.connect()
  try {
    return (await client.query(text)).rows
  } finally {
    await client.end()
  }
}

export async function freshSchema() {
  const schema = `tylt_bench_${randomBytes(4).toString('hex')}`
  await query(`CREATE SCHEMA ${schema}`)
  const separator = SERVER.includes('?') ? '&' : '?'
  return {
    url: `${SERVER}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    /** Rows in `table` of this schema. */
    count: async (table) => Number((await query(`SELECT count(*) AS n FROM ${schema}.${table}`))[0].n),
    drop: () => query(`DROP SCHEMA ${schema} CASCADE`),
  }
}
