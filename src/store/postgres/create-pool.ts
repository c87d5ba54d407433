import pg from 'pg'
import type { StoreUrl } from '../../config/store-url.js'

/** int8 (seq and times in milliseconds) as a JavaScript number: both stay far below 2^53. */
const INT8_OID = 20
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
}

/** How long a callback may wait for a connection before it is answered 503 (Tylt does not wait for long). */
const CONNECT_TIMEOUT_MS = 5_000
/** A statement that has not finished by then fails, so a request never hangs on a database that hangs. */
const QUERY_TIMEOUT_MS = 10_000

export interface PoolOptions {
  /** Connections at most; the webhook path uses two at a time (group commit), the forwarder one. */
  readonly max?: number
  readonly applicationName?: string
}

export const clientConfig = (url: StoreUrl, applicationName = 'tylt-relay'): pg.ClientConfig => ({
  connectionString: url.connectionString(),
  types,
  application_name: applicationName,
  keepAlive: true,
  connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  query_timeout: QUERY_TIMEOUT_MS,
})

/**
 * The store's connections. A lost connection costs the statements on it (their callbacks get 503) and is
 * replaced on demand: when PostgreSQL comes back the pool reconnects, no restart needed.
 */
export function createPool(url: StoreUrl, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    ...clientConfig(url, options.applicationName),
    max: options.max ?? 6,
    idleTimeoutMillis: 30_000,
  })
  // An idle connection that breaks (PostgreSQL restarted) is reported here; without a listener it would
  // crash the process. The pool drops it and the next query opens a new one.
  pool.on('error', () => {})
  return pool
}
