import type { Logger } from 'pino'
import type { Config } from '../config/load-config.js'
import type { HasDownstream } from '../core/event.js'
import type { EventStore } from '../core/event-store.js'
import { ALWAYS_HELD, type ForwardingLease } from '../core/forwarding-lease.js'
import type { StoreObserver } from '../core/observers.js'
import type { QuarantineStore } from '../core/quarantine-store.js'
import { GroupCommitStore } from './group-commit-store.js'
import { whileOpening } from './while-opening.js'

/** The PostgreSQL adapter and its client, loaded only when STORE_URL asks for them. */
const postgres = () => import('./postgres/open-postgres.js')

export interface ServingStore {
  /** Usable at once; on PostgreSQL it refuses with StoreUnavailableError until the database is reachable. */
  readonly store: EventStore
  /** The quarantine every replica shares, on PostgreSQL beside the events; undefined for the embedded store. */
  readonly quarantine: QuarantineStore | undefined
  /** Resolves with the forwarding lease once the store is open. */
  readonly opened: Promise<ForwardingLease>
}

export interface ServeStoreOptions {
  readonly logger: Logger
  /** Told how many appends each commit made durable. */
  readonly observer?: StoreObserver
  /** Told once when the embedded store can no longer make anything durable (PostgreSQL never calls it). */
  readonly onFailure?: (error: Error) => void
  /** Events of the other services are appended `stored`: nothing sends them until they are replayed. */
  readonly hasDownstream?: HasDownstream
}

/**
 * The store of a serving relay: STORE_URL unset, the embedded SQLite store in DATA_DIR; `postgres://`, the
 * PostgreSQL store shared by every replica. A database not up yet is waited for while the relay already
 * listens (the usual order of a roll-out): until it comes, callbacks are answered 503 and readiness fails.
 */
export function openStore(config: Config, options: ServeStoreOptions): ServingStore {
  if (config.storeUrl === undefined) {
    const store = new GroupCommitStore(config.dataDir, {
      observer: options.observer,
      onFailure: options.onFailure,
      hasDownstream: options.hasDownstream,
    })
    return { store, quarantine: undefined, opened: Promise.resolve(ALWAYS_HELD) }
  }
  const url = config.storeUrl
  const abort = new AbortController()
  const opening = postgres().then(async (pg) => {
    const observer = options.observer === undefined ? {} : { observer: options.observer }
    const replica = await pg.openPostgresReplica(url, options.logger, {
      ...observer,
      hasDownstream: options.hasDownstream,
      signal: abort.signal,
    })
    // The schema is migrated by now: the quarantine's connections open at once.
    const quarantine: QuarantineStore = await pg
      .openPostgresQuarantineStore(url)
      .catch(async (err: unknown) => {
        await replica.store.close()
        throw err
      })
    options.logger.info({ store: url.redacted }, 'events are kept in PostgreSQL')
    return { ...replica, quarantine }
  })
  const why = `the PostgreSQL store ${url.redacted} is not open yet`
  const giveUp = () => abort.abort()
  return {
    store: whileOpening<EventStore>(
      opening.then((o) => o.store),
      giveUp,
      why,
    ),
    quarantine: whileOpening<QuarantineStore>(
      opening.then((o) => o.quarantine),
      giveUp,
      why,
    ),
    opened: opening.then((o) => o.lease),
  }
}

/** The store for a command (`events`, `store`): it must exist already; nothing is created in DATA_DIR. */
export async function openExistingStore(config: Config, hasDownstream?: HasDownstream): Promise<EventStore> {
  if (config.storeUrl !== undefined)
    return (await postgres()).openExistingPostgresStore(config.storeUrl, hasDownstream)
  // Its errors tell a missing store from a damaged one or a folder this user may not write.
  return new GroupCommitStore(config.dataDir, { mustExist: true, hasDownstream })
}

/** The quarantine every replica shares; undefined for the embedded store, whose quarantine lives in DATA_DIR. */
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
