import type pg from 'pg'
import { QUARANTINE } from '../../constants.js'
import {
  type Evictions,
  evictionTarget,
  isReserved,
  type QuarantineBound,
  type QuarantinedRequest,
  type QuarantineStats,
  type QuarantineStore,
  type QuarantineSummary,
  requestBytes,
  UNBOUNDED,
} from '../../core/quarantine-store.js'
import { inTransaction } from './in-transaction.js'
import { lockKey } from './schema.js'

const SUMMARY = `id, received_at AS "receivedAt", reason, path, service, source_address AS "sourceAddress", signature,
  content_type AS "contentType", user_agent AS "userAgent", from_verified_source AS "fromVerifiedSource"`

/**
 * The largest source is trimmed to the level of the next largest, in steps of at least this many bytes (or
 * what is needed, if less): sources of equal size then lose about this much in turn, a few round trips per
 * write batch instead of one per request.
 */
export const EVICTION_STEP_BYTES = 16 * 1024

/** The statements that bound the quarantine; each reads through an index (quarantine-schema.ts). */
export const EVICTION_SQL = {
  /** The two source addresses holding the most bytes of a class. */
  largest: `SELECT source_address AS address, bytes FROM tylt_quarantine_sources
    WHERE reserved = $1 ORDER BY bytes DESC LIMIT 2`,
  /** A source's oldest requests, until $3 bytes are covered; $4 bounds the rows read. */
  evict: `DELETE FROM tylt_quarantine WHERE id IN (
      SELECT id FROM (
        SELECT id, bytes, sum(bytes) OVER (ORDER BY received_at, id) AS upto FROM (
          SELECT id, received_at, bytes FROM tylt_quarantine WHERE reserved = $1 AND source_address = $2
          ORDER BY received_at, id LIMIT $4) AS oldest) AS covered
      WHERE upto - bytes < $3)
    RETURNING bytes`,
  expire: 'DELETE FROM tylt_quarantine WHERE received_at < $1 RETURNING bytes',
  totals: `SELECT coalesce(sum(bytes), 0)::bigint AS bytes,
      coalesce(sum(bytes) FILTER (WHERE reserved), 0)::bigint AS "reservedBytes",
      coalesce(sum(count), 0)::bigint AS count
    FROM tylt_quarantine_totals`,
} as const

/**
 * The quarantine on PostgreSQL (same schema as the events), so every replica sees what any one refused.
 * Every write runs in a transaction under one advisory lock: replicas keep and evict one after the other, so
 * the committed total never passes the bound and the running totals never deadlock.
 */
export class PostgresQuarantineStore implements QuarantineStore {
  readonly #pool: pg.Pool
  #closed = false
  /** Bytes deleted since the last VACUUM; undefined once VACUUM failed (a role that does not own the table). */
  #deleted: number | undefined = 0

  /** `pool` must be migrated (migrate-schema.ts); the store closes it. */
  constructor(pool: pg.Pool) {
    this.#pool = pool
  }

  async add(requests: readonly QuarantinedRequest[], bound = UNBOUNDED): Promise<Evictions> {
    const cols: unknown[][] = Array.from({ length: 13 }, () => [])
    for (const r of requests) {
      const row: unknown[] = [r.id, r.receivedAt, r.reason, r.path, r.service, r.sourceAddress, r.signature]
      row.push(r.contentType, r.userAgent, r.body, r.fromVerifiedSource, isReserved(r))
      row.push(requestBytes(r, QUARANTINE.overheadBytes))
      for (let i = 0; i < row.length; i++) cols[i]!.push(row[i])
    }
    return this.#write(async (client) => {
      if (requests.length > 0) {
        await client.query(
          `INSERT INTO tylt_quarantine (id, received_at, reason, path, service, source_address, signature,
             content_type, user_agent, body, from_verified_source, reserved, bytes)
           SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],
             $7::text[], $8::text[], $9::text[], $10::bytea[], $11::boolean[], $12::boolean[], $13::bigint[])
           ON CONFLICT (id) DO NOTHING`,
          cols,
        )
      }
      return evict(client, bound)
    }).then((evictions) => this.#reclaim(evictions, bound))
  }

  async list(limit: number): Promise<QuarantineSummary[]> {
    const { rows } = await this.#pool.query<QuarantineSummary>(
      `SELECT ${SUMMARY}, octet_length(body)::int AS bytes FROM tylt_quarantine
         ORDER BY received_at DESC, id DESC LIMIT $1`,
      [limit],
    )
    return rows
  }

  async get(id: string): Promise<QuarantinedRequest | undefined> {
    const { rows } = await this.#pool.query<QuarantinedRequest>(
      `SELECT ${SUMMARY}, body FROM tylt_quarantine WHERE id = $1`,
      [id],
    )
    return rows[0]
  }

  async remove(ids: readonly string[] | 'all'): Promise<number> {
    return this.#write(async (client) => {
      const result =
        ids === 'all'
          ? await client.query('DELETE FROM tylt_quarantine')
          : await client.query('DELETE FROM tylt_quarantine WHERE id = ANY($1::text[])', [ids])
      return result.rowCount ?? 0
    })
  }

  /** The running totals: what is counted against the bound, read without touching a request. */
  async stats(): Promise<QuarantineStats> {
    const { rows } = await this.#pool.query<QuarantineStats>(EVICTION_SQL.totals)
    return { count: rows[0]!.count, bytes: rows[0]!.bytes }
  }

  async trim(bound: QuarantineBound): Promise<Evictions> {
    return this.#reclaim(await this.#write((client) => evict(client, bound)), bound)
  }

  /**
   * Once as many bytes as the bound were deleted, VACUUM makes their space reusable at once, instead of at
   * the next autovacuum run (a minute or more, during which a flood would keep growing the table's files):
   * the files then stay within about twice the bound, plus the indexes.
   */
  async #reclaim(evictions: Deleted, bound: QuarantineBound): Promise<Evictions> {
    const { bytes, ...counts } = evictions
    if (this.#deleted === undefined) return counts
    this.#deleted += bytes
    if (this.#deleted >= bound.maxBytes) {
      this.#deleted = 0
      await this.#pool.query('VACUUM tylt_quarantine').catch(() => {
        this.#deleted = undefined
      })
    }
    return counts
  }

  #write<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.#pool, async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(${lockKey('quarantine')})`)
      return work(client)
    })
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#pool.end()
  }
}

type Deleted = Evictions & { readonly bytes: number }

const bytesOf = (rows: readonly { bytes: number }[]) => rows.reduce((sum, row) => sum + row.bytes, 0)

/** Within the write transaction: what is too old, then evictions in the order of `evictionTarget`. */
async function evict(client: pg.PoolClient, bound: QuarantineBound): Promise<Deleted> {
  const { rows: old } = await client.query<{ bytes: number }>(EVICTION_SQL.expire, [bound.cutoff])
  const totals = (await client.query<{ bytes: number; reservedBytes: number }>(EVICTION_SQL.totals)).rows[0]!
  const evicted = { others: 0, reserved: 0 }
  let bytes = bytesOf(old)
  for (let target = evictionTarget(bound, totals); target !== undefined; ) {
    const reserved = target.class === 'reserved'
    const { rows: top } = await client.query<{ address: string; bytes: number }>(EVICTION_SQL.largest, [
      reserved,
    ])
    if (top[0] === undefined) break
    // Down to the next largest source's level (fair between sources), but never less than a step.
    const want = Math.min(target.excess, Math.max(top[0].bytes - (top[1]?.bytes ?? 0), EVICTION_STEP_BYTES))
    const rows = Math.ceil(want / QUARANTINE.overheadBytes) + 1
    const { rows: gone } = await client.query<{ bytes: number }>(EVICTION_SQL.evict, [
      reserved,
      top[0].address,
      want,
      rows,
    ])
    if (gone.length === 0) break
    const freed = bytesOf(gone)
    bytes += freed
    totals.bytes -= freed
    if (reserved) totals.reservedBytes -= freed
    evicted[target.class] += gone.length
    target = evictionTarget(bound, totals)
  }
  return { expired: old.length, evicted: evicted.others, evictedReserved: evicted.reserved, bytes }
}
