import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from 'pino'
import type { StoreUrl } from '../../config/store-url.js'
import { describeFailure } from '../../core/describe-failure.js'
import type { HasDownstream } from '../../core/event.js'
import { StoreSchemaTooNewError } from '../../errors.js'
import { createPool } from './create-pool.js'
import { checkSchema, migrateSchema } from './migrate-schema.js'
import { PostgresLease } from './postgres-lease.js'
import { PostgresQuarantineStore } from './postgres-quarantine-store.js'
import { PostgresStore, type PostgresStoreOptions } from './postgres-store.js'

/** Between attempts to reach a database that is not there yet at start. */
const START_RETRY_MS = 2_000

export interface OpenPostgresOptions extends Omit<PostgresStoreOptions, 'lease'> {
  /** The relay waits for a database that is down at start (one line per outage); commands fail at once. */
  readonly waitForDatabase?: Logger
  /** Gives up waiting (the relay stops before the database came). */
  readonly signal?: AbortSignal
}

async function migrated(url: StoreUrl, options: OpenPostgresOptions, max?: number) {
  const since = Date.now()
  for (let attempt = 1; ; attempt++) {
    const pool = createPool(url, max === undefined ? {} : { max })
    try {
      await migrateSchema(pool)
      if (attempt > 1) {
        const waitedMs = Date.now() - since
        options.waitForDatabase?.info(
          { store: url.redacted, waitedMs },
          'PostgreSQL store reachable; serving',
        )
      }
      return pool
    } catch (err) {
      await pool.end().catch(() => {})
      const logger = options.waitForDatabase
      if (logger === undefined || err instanceof StoreSchemaTooNewError) throw err
      // One line for the whole wait: the cause, not a stack trace at every try.
      if (attempt === 1) {
        logger.warn(
          { store: url.redacted, ...describeFailure(err), retryMs: START_RETRY_MS },
          'PostgreSQL store not reachable yet; retrying until it is, answering 503 meanwhile',
        )
      }
      await sleep(START_RETRY_MS, undefined, options.signal === undefined ? {} : { signal: options.signal })
    }
  }
}

/** The event store on PostgreSQL, its schema migrated; without a lease (tests, tools). */
export async function openPostgresStore(url: StoreUrl, options: OpenPostgresOptions = {}) {
  return new PostgresStore(await migrated(url, options), options)
}

/** A command's connections to a store that must exist at this relay's schema version: nothing is created or migrated. */
async function existingPool(url: StoreUrl) {
  const pool = createPool(url, { max: 2, applicationName: 'tylt-relay command' })
  try {
    await checkSchema(pool, url.redacted)
  } catch (err) {
    await pool.end()
    throw err
  }
  return pool
}

/** The event store for a command (`events`, `quarantine retry`). */
export async function openExistingPostgresStore(url: StoreUrl, hasDownstream?: HasDownstream) {
  return new PostgresStore(await existingPool(url), { hasDownstream })
}

/** The quarantine for a command (`quarantine`, `verify`), checked as the event store is. */
export async function openExistingPostgresQuarantineStore(url: StoreUrl) {
  return new PostgresQuarantineStore(await existingPool(url))
}

/** The event store of a serving relay, with the forwarding lease it shares with the other replicas. */
export async function openPostgresReplica(url: StoreUrl, logger: Logger, options: OpenPostgresOptions = {}) {
  options.signal?.throwIfAborted()
  const pool = await migrated(url, { ...options, waitForDatabase: logger })
  const lease = new PostgresLease(url, logger)
  const store = new PostgresStore(pool, { ...options, lease })
  return { store, lease }
}

/** The quarantine on PostgreSQL, in the same schema as the events. */
export async function openPostgresQuarantineStore(url: StoreUrl, options: OpenPostgresOptions = {}) {
  return new PostgresQuarantineStore(await migrated(url, options, 2))
}
