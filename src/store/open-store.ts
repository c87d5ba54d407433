import type { Logger } from 'pino'
import type { Config } from '../config/load-config.js'
import type { HasDownstream } from '../core/event.js'
import type { EventStore } from '../core/event-store.js'
import { ALWAYS_HELD, type ForwardingLease } from '../core/forwarding-lease.js'
import type { QuarantineStore } from '../core/quarantine-store.js'
import { GroupCommitStore } from './group-commit-store.js'

/** The PostgreSQL adapter and its client, loaded only when STORE_URL asks for them. */
const postgres = () => import('./postgres/open-postgres.js')

export interface OpenedStore {
  readonly store: EventStore
  /** Held at all times by the embedded store; shared with the other replicas on PostgreSQL. */
  readonly lease: ForwardingLease
}

export interface ServeStoreOptions {
  readonly logger: Logger
  /** Told how many appends each commit made durable. */
  readonly onCommit?: (events: number) => void
  /** Told once when the embedded store can no longer make anything durable (PostgreSQL never calls it). */
  readonly onFailure?: (error: Error) => void
  /** Events of the other services are appended `stored`: nothing sends them until they are replayed. */
  readonly hasDownstream?: HasDownstream
}

/**
 * The store of a serving relay: STORE_URL unset, the embedded SQLite store in DATA_DIR; `postgres://`, the
 * PostgreSQL store shared by every replica, waiting for the database if it is not up yet.
 */
export async function openStore(config: Config, options: ServeStoreOptions): Promise<OpenedStore> {
  if (config.storeUrl !== undefined) {
    const onCommit = options.onCommit === undefined ? {} : { onCommit: options.onCommit }
    const { openPostgresReplica } = await postgres()
    const opened = await openPostgresReplica(config.storeUrl, options.logger, {
      ...onCommit,
      hasDownstream: options.hasDownstream,
    })
    options.logger.info({ store: config.storeUrl.redacted }, 'events are kept in PostgreSQL')
    return opened
  }
  const store = new GroupCommitStore(config.dataDir, { hasDownstream: options.hasDownstream })
  store.onCommit = options.onCommit
  store.onFailure = options.onFailure
  return { store, lease: ALWAYS_HELD }
}

/** The store for a command (`events`, `store`): it must exist already; nothing is created in DATA_DIR. */
export async function openExistingStore(config: Config, hasDownstream?: HasDownstream): Promise<EventStore> {
  if (config.storeUrl !== undefined)
    return (await postgres()).openExistingPostgresStore(config.storeUrl, hasDownstream)
  // Its errors tell a missing store from a damaged one or a folder this user may not write.
  return new GroupCommitStore(config.dataDir, { mustExist: true, hasDownstream })
}

/**
 * The quarantine every replica shares, on PostgreSQL beside the events; undefined for the embedded store,
 * whose quarantine lives in DATA_DIR.
 */
export async function openSharedQuarantineStore(config: Config): Promise<QuarantineStore | undefined> {
  if (config.storeUrl === undefined) return undefined
  return (await postgres()).openPostgresQuarantineStore(config.storeUrl)
}

/** The shared quarantine for a command: like openExistingStore, it must exist; nothing is created or migrated. */
export async function openExistingSharedQuarantineStore(
  config: Config,
): Promise<QuarantineStore | undefined> {
  if (config.storeUrl === undefined) return undefined
  return (await postgres()).openExistingPostgresQuarantineStore(config.storeUrl)
}
