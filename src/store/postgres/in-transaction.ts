import type pg from 'pg'

/** Runs `work` in one transaction on one connection; a connection that failed mid-way is not reused. */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect()
  let broken: Error | undefined
  try {
    await client.query('BEGIN')
    const result = await work(client)
    await client.query('COMMIT')
    return result
  } catch (err) {
    await client.query('ROLLBACK').catch((rollback: Error) => {
      broken = rollback
    })
    throw err
  } finally {
    client.release(broken)
  }
}
