import type pg from 'pg'
import type { StoreUrl } from '../../config/store-url.js'
import type { CheckUpdate, OrderLedger, OrderRecord, OrderRef } from '../../core/order-ledger.js'
import { foldSql } from '../fold-sql.js'
import { LEDGER_MIGRATIONS, ORDER_COLUMNS } from '../ledger-schema.js'
import { createPool } from './create-pool.js'
import { inTransaction } from './in-transaction.js'

const MIGRATIONS = LEDGER_MIGRATIONS((name) => `tylt_${name}`)
/** The ledger's own advisory lock key (first half), beside the store's (schema.ts, LOCK). */
const MIGRATE_LOCK = `1953066510, hashtext(current_schema())`

// No statement uses both `to` and `upTo`: they share a place.
const PARAMS = { from: '$1', to: '$2', upTo: '$2', grace: '$3', wave: '$4' } as const
const FOLD = foldSql({ events: 'tylt_events', param: (name) => PARAMS[name], waves: true })

async function migrate(pool: pg.Pool): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query(`SELECT pg_advisory_xact_lock(${MIGRATE_LOCK})`)
    await client.query('CREATE TABLE IF NOT EXISTS tylt_ledger_schema (version integer NOT NULL)')
    const { rows } = await client.query<{ version: number }>('SELECT version FROM tylt_ledger_schema')
    const version = rows[0]?.version ?? 0
    if (version >= MIGRATIONS.length) return
    for (let v = version; v < MIGRATIONS.length; v++) await client.query(MIGRATIONS[v]!)
    await client.query('DELETE FROM tylt_ledger_schema')
    await client.query('INSERT INTO tylt_ledger_schema (version) VALUES ($1)', [MIGRATIONS.length])
  })
}

/**
 * The order ledger beside the events in PostgreSQL, on a small pool of its own. Catching up locks the
 * watermark row, so replicas fold each event once; appends take their seq and commit in order under the
 * store's append lock, so no event commits behind the watermark.
 */
export class PostgresOrderLedger implements OrderLedger {
  readonly #pool: pg.Pool

  private constructor(pool: pg.Pool) {
    this.#pool = pool
  }

  static async open(url: StoreUrl): Promise<PostgresOrderLedger> {
    const pool = createPool(url, { max: 2, applicationName: 'tylt-relay reconcile' })
    try {
      await migrate(pool)
    } catch (err) {
      await pool.end().catch(() => {})
      throw err
    }
    return new PostgresOrderLedger(pool)
  }

  /** Folds the next batch of events up to `upTo` into the ledger (fold-sql.ts); returns how many it read. */
  async #step(grace: number, upTo: number): Promise<number> {
    return inTransaction(this.#pool, async (client) => {
      const { rows: state } = await client.query<{ watermark: number }>(
        'SELECT watermark FROM tylt_ledger_state WHERE id = 1 FOR UPDATE',
      )
      const from = state[0]?.watermark ?? 0
      const { rows: batch } = await client.query<{ read: number; last: number }>(FOLD.nextBatch, [from, upTo])
      const { read, last: to } = batch[0]!
      if (read === 0) return 0
      const { rows: shape } = await client.query<{ twoKeys: boolean; waves: number }>(FOLD.shape, [from, to])
      const { twoKeys, waves } = shape[0]!
      if (!twoKeys)
        for (let wave = 1; wave <= waves; wave++) await client.query(FOLD.foldWave, [from, to, grace, wave])
      else
        for (const { seq } of (await client.query<{ seq: number }>(FOLD.seqs, [from, to])).rows)
          await client.query(FOLD.foldNamed, [seq - 1, seq, grace, 1])
      await client.query('UPDATE tylt_ledger_state SET watermark = $1 WHERE id = 1', [to])
      return read
    })
  }

  async catchUp(graceMs: number): Promise<number> {
    // Up to the events committed now, as on SQLite: a catch-up never chases a steady flow of callbacks.
    const { rows } = await this.#pool.query<{ upTo: number }>(FOLD.lastSeq)
    const upTo = rows[0]?.upTo ?? 0
    let total = 0
    for (let read = await this.#step(graceMs, upTo); read > 0; read = await this.#step(graceMs, upTo))
      total += read
    return total
  }

  async due(now: number, limit: number): Promise<OrderRecord[]> {
    const { rows } = await this.#pool.query<OrderRecord>(
      `SELECT ${ORDER_COLUMNS} FROM tylt_orders WHERE next_check IS NOT NULL AND abandoned_at IS NULL
         AND next_check <= $1 ORDER BY next_check LIMIT $2`,
      [now, limit],
    )
    return rows
  }

  async find(id: string, service?: string): Promise<OrderRecord[]> {
    const { rows } = await this.#pool.query<OrderRecord>(
      `SELECT ${ORDER_COLUMNS} FROM tylt_orders WHERE (order_id = $1 OR merchant_order_id = $1)
         AND ($2::text IS NULL OR service = $2) ORDER BY first_seen`,
      [id, service ?? null],
    )
    return rows
  }

  async open(limit: number): Promise<OrderRecord[]> {
    const { rows } = await this.#pool.query<OrderRecord>(
      `SELECT ${ORDER_COLUMNS} FROM tylt_orders WHERE next_check IS NOT NULL AND abandoned_at IS NULL
         ORDER BY first_seen LIMIT $1`,
      [limit],
    )
    return rows
  }

  async abandoned(limit: number): Promise<OrderRecord[]> {
    const { rows } = await this.#pool.query<OrderRecord>(
      `SELECT ${ORDER_COLUMNS} FROM tylt_orders WHERE abandoned_at IS NOT NULL ORDER BY abandoned_at DESC LIMIT $1`,
      [limit],
    )
    return rows
  }

  async recordCheck(order: OrderRef, update: CheckUpdate): Promise<void> {
    await this.#pool.query(
      `UPDATE tylt_orders SET next_check = $4, checks = $5, last_result = $6,
         abandoned_at = coalesce($7, abandoned_at)
       WHERE service = $1 AND product = $2 AND order_key = $3`,
      [
        order.service,
        order.product,
        order.orderKey,
        update.nextCheck,
        update.checks,
        update.lastResult,
        update.abandonedAt ?? null,
      ],
    )
  }

  async tryLease(holder: string, now: number, ttlMs: number): Promise<boolean> {
    const { rowCount } = await this.#pool.query(
      `UPDATE tylt_ledger_state SET lease_holder = $1, lease_until = $2
       WHERE id = 1 AND (lease_holder = $1 OR lease_holder IS NULL OR lease_until < $3)`,
      [holder, now + ttlMs, now],
    )
    return rowCount === 1
  }

  async close(): Promise<void> {
    await this.#pool.end()
  }
}
