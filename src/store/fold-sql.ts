import { CATCH_UP_BATCH } from './ledger-schema.js'

/** India INR payouts carry no deadline; Tylt's pages say they are processed within 30 to 60 minutes. */
export const INR_PAYOUT_WINDOW_MS = 60 * 60_000

/** Where the fold's SQL differs between the stores. */
export interface FoldDialect {
  readonly events: string
  readonly param: (name: 'from' | 'to' | 'grace' | 'wave' | 'upTo') => string
  /**
   * Whether one statement may meet an order only once (PostgreSQL). SQLite applies the rows of one statement
   * one after another, each conflict seeing the rows before it: there a range is one wave.
   */
  readonly waves: boolean
}

/** The key an event (of alias `a`) files under: Tylt's id when the body has one, else the merchant's. */
const keyOf = (a: string) => `coalesce(${a}.order_id, ${a}.merchant_order_id)`
const KEY = keyOf('e')

/**
 * The key of the record the event's key or, failing that, its merchant's id already names; else its own.
 * Read per event: a statement sees the table as it was when it started.
 */
const NAMED_KEY = `coalesce(
    (SELECT o.order_key FROM tylt_orders o WHERE o.service = e.service AND o.product = e.product
       AND o.order_key = ${KEY}),
    (SELECT o.order_key FROM tylt_orders o WHERE o.merchant_order_id = e.merchant_order_id
       AND o.service = e.service AND o.product = e.product LIMIT 1),
    ${KEY})`

/** When the order should have moved on by: the body's deadline, else the event's time (an hour on for INR). */
const DEADLINE = `coalesce(e.deadline,
    e.accepted_at + CASE WHEN e.product = 'inr-payout' THEN ${INR_PAYOUT_WINDOW_MS} ELSE 0 END)`

/** A state moves the record unless it is absent, the same, or a non-final one after a final one. */
const MOVES = `excluded.status IS NOT NULL AND excluded.status IS DISTINCT FROM tylt_orders.status
    AND NOT (tylt_orders.final = 'true' AND excluded.final <> 'true')`
const moved = (column: string, value = `excluded.${column}`) =>
  `${column} = CASE WHEN ${MOVES} THEN ${value} ELSE tylt_orders.${column} END`

/**
 * The order ledger's fold, in SQL both stores run, over the events of (from, to] in their order; on
 * PostgreSQL in waves, wave n holding the n-th event of each order, so that no statement meets an order
 * twice. A new order gets a row; a known one keeps its first ids, its latest time seen, and takes the
 * event's state when that state moves it (then due again from the new deadline). A range where an order goes
 * by two keys (its merchant's id names a record, or another event of the range, under a key other than the
 * event's own) is folded one event at a time, each under the key of the record it names.
 */
export function foldSql(d: FoldDialect) {
  // The events of (from, to] the ledger files: those that name a product and an order.
  const filed = (a: string) => `${a}.seq > ${d.param('from')} AND ${a}.seq <= ${d.param('to')}
      AND ${a}.product <> 'unknown' AND ${keyOf(a)} IS NOT NULL`
  const range = filed('e')
  const fold = (target: string) => `INSERT INTO tylt_orders (service, product, order_key, order_id,
      merchant_order_id, status, final, source, first_seen, last_seen, deadline, next_check, checks)
    SELECT e.service, e.product, ${target}, e.order_id, e.merchant_order_id, e.status, e.final,
      CASE WHEN e.recovered = 'reconcile' THEN 'reconcile' ELSE 'callback' END, e.accepted_at, e.accepted_at,
      ${DEADLINE}, CASE WHEN e.final = 'true' THEN NULL ELSE ${DEADLINE} + ${d.param('grace')} END, 0
    FROM ${
      d.waves
        ? `(SELECT w.*, row_number() OVER (PARTITION BY w.service, w.product, ${keyOf('w')} ORDER BY w.seq)
            AS wave FROM ${d.events} w WHERE ${filed('w')}) e WHERE e.wave = ${d.param('wave')}`
        : `${d.events} e WHERE ${range} ORDER BY e.seq`
    }
    ON CONFLICT (service, product, order_key) DO UPDATE SET
      order_id = coalesce(tylt_orders.order_id, excluded.order_id),
      merchant_order_id = coalesce(tylt_orders.merchant_order_id, excluded.merchant_order_id),
      last_seen = CASE WHEN excluded.last_seen > tylt_orders.last_seen THEN excluded.last_seen
        ELSE tylt_orders.last_seen END,
      ${moved('status')}, ${moved('final')}, ${moved('source')}, ${moved('deadline')},
      ${moved('next_check')}, ${moved('checks', '0')}, ${moved('abandoned_at', 'NULL')}`
  return {
    /** Where a catch-up stops: the events committed when it starts, however many arrive meanwhile. */
    lastSeq: `SELECT coalesce(max(seq), 0) AS "upTo" FROM ${d.events}`,
    /** How many events the next batch after `from` holds (up to `upTo`), and its last seq. */
    nextBatch: `SELECT count(*) AS "read", max(seq) AS "last" FROM (SELECT seq FROM ${d.events}
      WHERE seq > ${d.param('from')} AND seq <= ${d.param('upTo')} ORDER BY seq LIMIT ${CATCH_UP_BATCH}) b`,
    /** Whether an order of (from, to] goes by two keys, and how many waves the range takes. */
    shape: `SELECT
      EXISTS (SELECT 1 FROM ${d.events} e WHERE ${range} AND e.merchant_order_id IS NOT NULL
        AND EXISTS (SELECT 1 FROM tylt_orders o WHERE o.merchant_order_id = e.merchant_order_id
          AND o.service = e.service AND o.product = e.product AND o.order_key <> ${KEY}))
      OR EXISTS (SELECT 1 FROM ${d.events} e WHERE ${range} AND e.merchant_order_id IS NOT NULL
        GROUP BY e.service, e.product, e.merchant_order_id HAVING count(DISTINCT ${KEY}) > 1) AS "twoKeys",
      ${
        d.waves
          ? `(SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM ${d.events} e WHERE ${range}
              GROUP BY e.service, e.product, ${KEY}) c)`
          : '1'
      } AS "waves"`,
    seqs: `SELECT seq FROM ${d.events} WHERE seq > ${d.param('from')} AND seq <= ${d.param('to')} ORDER BY seq`,
    /** Wave `wave` of (from, to] (the whole range on SQLite), each event under its own key. */
    foldWave: fold(KEY),
    /** The one event of (from, to], under the key of the record it names (`wave` 1). */
    foldNamed: fold(NAMED_KEY),
  }
}
