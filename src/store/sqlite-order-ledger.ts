import { join } from 'node:path'
import Database from 'better-sqlite3'
import { STORE_FILE } from '../constants.js'
import type { CheckUpdate, OrderLedger, OrderRecord, OrderRef } from '../core/order-ledger.js'
import { INR_PAYOUT_WINDOW_MS } from './fold-order.js'
import { CATCH_UP_BATCH, LEDGER_MIGRATIONS, ORDER_COLUMNS } from './ledger-schema.js'
import { checkDataDir, openError } from './open-errors.js'

const table = (name: string) => `tylt_${name}`
const MIGRATIONS = LEDGER_MIGRATIONS(table)

/** Kept reachable for the process's life: see OPENED in sqlite-store.ts (Node 24 and freed statements). */
const KEPT: unknown[] = []

// foldOrder (fold-order.ts) in SQL, over the events in (@from, @to] in their order: each row's conflict sees
// the rows before it, so the events of one order fold one after another. An event files under its own key
// (Tylt's id, else the merchant's) or, folded alone, under the key of the record its key or its merchant's
// id already names, as foldOrder's callers look records up.
const KEY = 'coalesce(e.order_id, e.merchant_order_id)'
const NAMED_KEY = `coalesce(
    (SELECT o.order_key FROM tylt_orders o WHERE o.service = e.service AND o.product = e.product
       AND o.order_key = ${KEY}),
    (SELECT o.order_key FROM tylt_orders o WHERE o.merchant_order_id = e.merchant_order_id
       AND o.service = e.service AND o.product = e.product LIMIT 1),
    ${KEY})`
const DEADLINE = `coalesce(e.deadline,
    e.accepted_at + iif(e.product = 'inr-payout', ${INR_PAYOUT_WINDOW_MS}, 0))`
// A state moves the record unless it is absent, the same, or a non-final one after a final success.
const MOVES = `(excluded.status IS NOT NULL AND excluded.status IS NOT status
  AND NOT (final = 'true' AND excluded.final <> 'true'))`
const FOLD = (target: string) => `INSERT INTO tylt_orders (service, product, order_key, order_id,
    merchant_order_id, status, final, source, first_seen, last_seen, deadline, next_check, checks)
  SELECT e.service, e.product, ${target}, e.order_id, e.merchant_order_id, e.status, e.final,
    iif(e.recovered = 'reconcile', 'reconcile', 'callback'), e.accepted_at, e.accepted_at, ${DEADLINE},
    iif(e.final = 'true', NULL, ${DEADLINE} + @grace), 0
  FROM events e
  WHERE e.seq > @from AND e.seq <= @to AND e.product <> 'unknown' AND ${KEY} IS NOT NULL
  ORDER BY e.seq
  ON CONFLICT (service, product, order_key) DO UPDATE SET
    order_id = coalesce(order_id, excluded.order_id),
    merchant_order_id = coalesce(merchant_order_id, excluded.merchant_order_id),
    last_seen = max(last_seen, excluded.last_seen),
    status = iif(${MOVES}, excluded.status, status),
    final = iif(${MOVES}, excluded.final, final),
    source = iif(${MOVES}, excluded.source, source),
    deadline = iif(${MOVES}, excluded.deadline, deadline),
    next_check = iif(${MOVES}, excluded.next_check, next_check),
    checks = iif(${MOVES}, 0, checks),
    abandoned_at = iif(${MOVES}, NULL, abandoned_at)`
const FOLD_BATCH = FOLD(KEY)
const FOLD_ONE = FOLD(NAMED_KEY)
// Whether an order of (@from, @to] goes by two keys: its merchant's id names a record, or another event of
// the range, under a key other than the event's own. Only then do the keys differ from the events' own, and
// the range is folded one event at a time (a statement that reads the table it writes reads it first).
const TWO_KEYS = `SELECT EXISTS (
    SELECT 1 FROM events e WHERE e.seq > @from AND e.seq <= @to AND e.product <> 'unknown'
      AND e.merchant_order_id IS NOT NULL
      AND EXISTS (SELECT 1 FROM tylt_orders o WHERE o.merchant_order_id = e.merchant_order_id
        AND o.service = e.service AND o.product = e.product AND o.order_key <> ${KEY})
  ) OR EXISTS (
    SELECT 1 FROM events e WHERE e.seq > @from AND e.seq <= @to AND e.product <> 'unknown'
      AND e.merchant_order_id IS NOT NULL
    GROUP BY e.service, e.product, e.merchant_order_id HAVING count(DISTINCT ${KEY}) > 1
  ) AS twoKeys`
const WATERMARK = 'SELECT watermark FROM tylt_ledger_state WHERE id = 1'
const NEXT_BATCH = `SELECT count(*) AS read, max(seq) AS last FROM (SELECT seq FROM events WHERE seq > ? AND seq <= ?
  ORDER BY seq LIMIT ${CATCH_UP_BATCH})`
const SEQS = 'SELECT seq FROM events WHERE seq > ? AND seq <= ? ORDER BY seq'
const SET_WATERMARK = 'UPDATE tylt_ledger_state SET watermark = ? WHERE id = 1'
const LAST_SEQ = 'SELECT coalesce(max(seq), 0) AS upTo FROM events'

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

  /** Folds the next batch of events up to `upTo` into the ledger; returns how many events it read. */
  #step(grace: number, upTo: number): number {
    return this.#db
      .transaction(() => {
        const { watermark } = this.#statement(WATERMARK).get() as { watermark: number }
        const { read, last } = this.#statement(NEXT_BATCH).get(watermark, upTo) as {
          read: number
          last: number
        }
        if (read === 0) return 0
        const range = { from: watermark, to: last, grace }
        const { twoKeys } = this.#statement(TWO_KEYS).get(range) as { twoKeys: number }
        if (twoKeys === 0) this.#statement(FOLD_BATCH).run(range)
        else
          for (const seq of this.#statement(SEQS).pluck().all(watermark, last) as number[])
            this.#statement(FOLD_ONE).run({ from: seq - 1, to: seq, grace })
        this.#statement(SET_WATERMARK).run(last)
        return read
      })
      .immediate()
  }

  async catchUp(graceMs: number): Promise<number> {
    // Up to the events committed now: under a steady flow of callbacks a catch-up that chased the newest
    // would never end, and the round waiting for it would never ask Tylt anything.
    const { upTo } = this.#statement(LAST_SEQ).get() as { upTo: number }
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
