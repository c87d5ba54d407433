import { join } from 'node:path'
import Database from 'better-sqlite3'
import { STORE_FILE } from '../constants.js'
import type { CheckUpdate, OrderLedger, OrderRecord, OrderRef } from '../core/order-ledger.js'
import { foldSql } from './fold-sql.js'
import { LEDGER_MIGRATIONS, ORDER_COLUMNS } from './ledger-schema.js'
import { checkDataDir, openError } from './open-errors.js'

const table = (name: string) => `tylt_${name}`
const MIGRATIONS = LEDGER_MIGRATIONS(table)

/** Kept reachable for the process's life: see OPENED in sqlite-store.ts (Node 24 and freed statements). */
const KEPT: unknown[] = []

const FOLD = foldSql({ events: 'events', param: (name) => `@${name}`, waves: false })
const WATERMARK = 'SELECT watermark FROM tylt_ledger_state WHERE id = 1'
const SET_WATERMARK = 'UPDATE tylt_ledger_state SET watermark = ? WHERE id = 1'

/**
 * The order ledger in the embedded store's file, on a connection of its own: it follows the events table
 * past its watermark, so the webhook path never writes to it.
 */
export class SqliteOrderLedger implements OrderLedger {
  readonly #db: Database.Database
  readonly #statements = new Map<string, Database.Statement>()

  constructor(dataDir: string) {
    const file = join(dataDir, STORE_FILE)
    checkDataDir(dataDir, file, true)
    try {
      this.#db = new Database(file, { fileMustExist: true })
    } catch (err) {
      throw openError(err, dataDir, file)
    }
    KEPT.push(this)
    // No sync on commit: an fsync on the event loop would stall a relay's webhook path, and a ledger commit
    // lost to a power cut loses its watermark with it, so those events are simply folded again. Checkpoints
    // are left to the event store's connection, which times them around its own syncs.
    this.#db.exec(
      'PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA wal_autocheckpoint = 0',
    )
    this.#migrate()
  }

  #statement(sql: string): Database.Statement {
    let statement = this.#statements.get(sql)
    if (statement === undefined) {
      statement = this.#db.prepare(sql)
      this.#statements.set(sql, statement)
    }
    return statement
  }

  #migrate(): void {
    this.#db.exec('CREATE TABLE IF NOT EXISTS tylt_ledger_schema (version INTEGER NOT NULL)')
    const row = this.#statement('SELECT version FROM tylt_ledger_schema').get() as
      | { version: number }
      | undefined
    const version = row?.version ?? 0
    if (version >= MIGRATIONS.length) return
    this.#db
      .transaction(() => {
        for (let v = version; v < MIGRATIONS.length; v++) this.#db.exec(MIGRATIONS[v]!)
        this.#db.exec('DELETE FROM tylt_ledger_schema')
        this.#statement('INSERT INTO tylt_ledger_schema (version) VALUES (?)').run(MIGRATIONS.length)
      })
      .immediate()
  }

  /** Folds the next batch of events up to `upTo` into the ledger (fold-sql.ts); returns how many it read. */
  #step(grace: number, upTo: number): number {
    return this.#db
      .transaction(() => {
        const { watermark: from } = this.#statement(WATERMARK).get() as { watermark: number }
        const batch = this.#statement(FOLD.nextBatch).get({ from, upTo }) as { read: number; last: number }
        if (batch.read === 0) return 0
        const to = batch.last
        const shape = this.#statement(FOLD.shape).get({ from, to }) as { twoKeys: number }
        if (shape.twoKeys === 0) this.#statement(FOLD.foldWave).run({ from, to, grace })
        else
          for (const seq of this.#statement(FOLD.seqs).pluck().all({ from, to }) as number[])
            this.#statement(FOLD.foldNamed).run({ from: seq - 1, to: seq, grace })
        this.#statement(SET_WATERMARK).run(to)
        return batch.read
      })
      .immediate()
  }

  async catchUp(graceMs: number): Promise<number> {
    // Up to the events committed now: under a steady flow of callbacks a catch-up that chased the newest
    // would never end, and the round waiting for it would never ask Tylt anything.
    const { upTo } = this.#statement(FOLD.lastSeq).get() as { upTo: number }
    let total = 0
    for (let read = this.#step(graceMs, upTo); read > 0; read = this.#step(graceMs, upTo)) {
      total += read
      // Between batches the event loop (and the webhook path of a relay in this process) gets its turn.
      await new Promise((resolve) => setImmediate(resolve))
    }
    return total
  }

  async due(now: number, limit: number): Promise<OrderRecord[]> {
    return this.#statement(
      `SELECT ${ORDER_COLUMNS} FROM tylt_orders WHERE next_check IS NOT NULL AND abandoned_at IS NULL
         AND next_check <= ? ORDER BY next_check LIMIT ?`,
    ).all(now, limit) as OrderRecord[]
  }

  async find(id: string, service?: string): Promise<OrderRecord[]> {
    // Two index lookups: a term on order_key (not the first column of any index) would scan the table.
    return this.#statement(
      `SELECT ${ORDER_COLUMNS} FROM tylt_orders WHERE (order_id = @id OR merchant_order_id = @id)
         AND (@service IS NULL OR service = @service) ORDER BY first_seen`,
    ).all({ id, service: service ?? null }) as OrderRecord[]
  }

  async open(limit: number): Promise<OrderRecord[]> {
    return this.#statement(
      `SELECT ${ORDER_COLUMNS} FROM tylt_orders WHERE next_check IS NOT NULL AND abandoned_at IS NULL
         ORDER BY first_seen LIMIT ?`,
    ).all(limit) as OrderRecord[]
  }

  async abandoned(limit: number): Promise<OrderRecord[]> {
    return this.#statement(
      `SELECT ${ORDER_COLUMNS} FROM tylt_orders WHERE abandoned_at IS NOT NULL ORDER BY abandoned_at DESC LIMIT ?`,
    ).all(limit) as OrderRecord[]
  }

  async recordCheck(order: OrderRef, update: CheckUpdate): Promise<void> {
    this.#statement(
      `UPDATE tylt_orders SET next_check = @nextCheck, checks = @checks, last_result = @lastResult,
         abandoned_at = coalesce(@abandonedAt, abandoned_at)
       WHERE service = @service AND product = @product AND order_key = @orderKey`,
    ).run({
      service: order.service,
      product: order.product,
      orderKey: order.orderKey,
      nextCheck: update.nextCheck,
      checks: update.checks,
      lastResult: update.lastResult,
      abandonedAt: update.abandonedAt ?? null,
    })
  }

  async tryLease(holder: string, now: number, ttlMs: number): Promise<boolean> {
    const { changes } = this.#statement(
      `UPDATE tylt_ledger_state SET lease_holder = ?, lease_until = ?
       WHERE id = 1 AND (lease_holder = ? OR lease_holder IS NULL OR lease_until < ?)`,
    ).run(holder, now + ttlMs, holder, now)
    return changes === 1
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close()
  }
}
