import type { Config } from '../config/load-config.js'
import type { EventStore } from '../core/event-store.js'
import type { QuarantineStore } from '../core/quarantine-store.js'
import { hasDownstreamIn, planDownstreams } from '../forward/downstream-plan.js'
import { SqliteQuarantineStore } from '../quarantine/sqlite-quarantine-store.js'
import { openExistingSharedQuarantineStore, openExistingStore } from '../store/open-store.js'

/** The event store the relay writes, opened as it is (never created), on either backend. */
export function openEventStore(config: Config): Promise<EventStore> {
  // Events it appends (quarantine retry) take the state the relay would give them.
  return openExistingStore(config, hasDownstreamIn(planDownstreams(config)))
}

/** The relay's quarantine, opened as it is (never created): in PostgreSQL with STORE_URL, else in DATA_DIR. */
export async function openQuarantine(config: Config): Promise<QuarantineStore> {
  const shared = await openExistingSharedQuarantineStore(config)
  if (shared !== undefined) return shared
  try {
    return new SqliteQuarantineStore(config.dataDir, { mustExist: true })
  } catch {
    throw new Error(
      `no quarantine in DATA_DIR (${config.dataDir}); has the relay run there with QUARANTINE_MAX_BYTES above 0?`,
    )
  }
}

/** Runs `work` with a store and closes it, whatever happens. */
export async function using<S extends { close(): Promise<void> }, T>(
  store: S,
  work: (store: S) => Promise<T>,
): Promise<T> {
  try {
    return await work(store)
  } finally {
    await store.close()
  }
}
