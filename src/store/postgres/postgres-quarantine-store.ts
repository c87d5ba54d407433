import type pg from 'pg'
import type {
  QuarantinedRequest,
  QuarantineStats,
  QuarantineStore,
  QuarantineSummary,
} from '../../core/quarantine-store.js'

const SUMMARY = `id, received_at AS "receivedAt", reason, path, service, source_address AS "sourceAddress", signature,
  content_type AS "contentType", user_agent AS "userAgent"`

/** The quarantine on PostgreSQL (same schema as the events), so every replica sees what any one refused. */
export class PostgresQuarantineStore implements QuarantineStore {
  readonly #pool: pg.Pool
  #closed = false

  /** `pool` must be migrated (migrate-schema.ts); the store closes it. */
  constructor(pool: pg.Pool) {
    this.#pool = pool
  }

  async add(requests: readonly QuarantinedRequest[]): Promise<void> {
    if (requests.length === 0) return
    const cols: unknown[][] = Array.from({ length: 10 }, () => [])
    for (const r of requests) {
      const row: unknown[] = [
        r.id,
        r.receivedAt,
        r.reason,
        r.path,
        r.service,
        r.sourceAddress,
        r.signature,
        r.contentType,
      ]
      row.push(r.userAgent, r.body)
      for (let i = 0; i < row.length; i++) cols[i]!.push(row[i])
    }
    await this.#pool.query(
      `INSERT INTO tylt_quarantine (id, received_at, reason, path, service, source_address, signature,
         content_type, user_agent, body)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
         $8::text[], $9::text[], $10::bytea[])
       ON CONFLICT (id) DO NOTHING`,
      cols,
    )
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
    const result =
      ids === 'all'
        ? await this.#pool.query('DELETE FROM tylt_quarantine')
        : await this.#pool.query('DELETE FROM tylt_quarantine WHERE id = ANY($1::text[])', [ids])
    return result.rowCount ?? 0
  }

  async stats(): Promise<QuarantineStats> {
    const { rows } = await this.#pool.query<QuarantineStats>(
      'SELECT count(*)::int AS count, coalesce(sum(octet_length(body)), 0)::bigint AS bytes FROM tylt_quarantine',
    )
    return rows[0]!
  }

  /** Drops what is older than `cutoff`, then the oldest until the bodies fit in `maxBytes`. */
  async trim(maxBytes: number, cutoff: number): Promise<number> {
    const old = await this.#pool.query('DELETE FROM tylt_quarantine WHERE received_at < $1', [cutoff])
    const over = await this.#pool.query(
      `DELETE FROM tylt_quarantine WHERE id IN (
         SELECT id FROM (SELECT id, sum(octet_length(body)) OVER (ORDER BY received_at DESC, id DESC) AS kept
           FROM tylt_quarantine) AS newest_first
         WHERE kept > $1)`,
      [maxBytes],
    )
    return (old.rowCount ?? 0) + (over.rowCount ?? 0)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#pool.end()
  }
}
