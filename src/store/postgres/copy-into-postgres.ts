import type { StoreUrl } from '../../config/store-url.js'
import type { Attempt, StoredEvent } from '../../core/event.js'
import type { EventStore } from '../../core/event-store.js'
import { StoreNotEmptyError } from '../../errors.js'
import { createPool } from './create-pool.js'
import { inTransaction } from './in-transaction.js'
import { migrateSchema } from './migrate-schema.js'

/** Events read from the source and written to PostgreSQL per statement. */
const PAGE = 500

export interface CopyReport {
  readonly events: number
  readonly pending: number
  readonly dead: number
  readonly attempts: number
}

const EVENT_FIELDS: readonly (keyof StoredEvent)[] = [
  'seq',
  'id',
  'service',
  'acceptedAt',
  'signature',
  'orderId',
  'merchantOrderId',
  'status',
  'body',
  'state',
  'attempts',
  'lastError',
  'lastAttemptAt',
  'deliveredAt',
  'retrySince',
  'product',
  'final',
  'recovered',
  'deliveredTo',
  'deadline',
]

const INSERT_EVENTS = `INSERT INTO tylt_events (seq, id, service, accepted_at, signature, order_id, merchant_order_id,
    status, body, state, attempts, last_error, last_attempt_at, delivered_at, retry_since, product, final, recovered,
    delivered_to, deadline)
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[],
    $8::text[], $9::bytea[], $10::text[], $11::int[], $12::text[], $13::bigint[], $14::bigint[], $15::bigint[],
    $16::text[], $17::text[], $18::text[], $19::text[], $20::bigint[])`

const INSERT_ATTEMPTS = `INSERT INTO tylt_attempts (event_seq, at, downstream, outcome, error, duration_ms, status,
    answer)
  SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::int[], $7::int[],
    $8::text[])`

const ATTEMPT_FIELDS = ['at', 'downstream', 'outcome', 'error', 'durationMs', 'status', 'answer'] as const

/**
 * Copies every event of `source` (pending, dead and delivered: the delivered ones are the deduplication
 * window) with its seq, state, counters and kept attempts into an empty PostgreSQL store, in one
 * transaction: all of it or nothing. A source that takes events meanwhile (a relay still running on it)
 * aborts the copy.
 */
export async function copyIntoPostgres(source: EventStore, url: StoreUrl): Promise<CopyReport> {
  const pool = createPool(url, { max: 1, applicationName: 'tylt-relay store migrate' })
  try {
    await migrateSchema(pool)
    return await inTransaction(pool, async (client) => {
      const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM tylt_events')
      if (rows[0]!.n > 0) throw new StoreNotEmptyError(rows[0]!.n)
      const newest = async () => (await source.list({ limit: 1 }))[0]?.seq
      const before = await newest()
      const report = { events: 0, pending: 0, dead: 0, attempts: 0 }
      let beforeSeq: number | undefined
      for (;;) {
        const page = await source.list({ limit: PAGE, ...(beforeSeq === undefined ? {} : { beforeSeq }) })
        if (page.length === 0) break
        beforeSeq = page.at(-1)!.seq
        await client.query(
          INSERT_EVENTS,
          EVENT_FIELDS.map((field) => page.map((e) => e[field])),
        )
        const attempts: [number, Attempt][] = []
        for (const e of page) for (const a of await source.attempts(e.id)) attempts.push([e.seq, a])
        if (attempts.length > 0) {
          await client.query(INSERT_ATTEMPTS, [
            attempts.map(([seq]) => seq),
            ...ATTEMPT_FIELDS.map((f) => attempts.map(([, a]) => a[f])),
          ])
        }
        report.events += page.length
        report.pending += page.filter((e) => e.state === 'pending').length
        report.dead += page.filter((e) => e.state === 'dead').length
        report.attempts += attempts.length
      }
      if ((await newest()) !== before) {
        throw new Error(
          'the source store took new events during the copy: stop the relay on it, then migrate again',
        )
      }
      // New events must follow the copied ones in acceptance order.
      await client.query(
        `SELECT setval(pg_get_serial_sequence('tylt_events', 'seq'), coalesce(max(seq), 0) + 1, false) FROM tylt_events`,
      )
      return report
    })
  } finally {
    await pool.end()
  }
}
