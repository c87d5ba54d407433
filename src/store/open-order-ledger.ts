import type { Config } from '../config/load-config.js'
import type { OrderLedger } from '../core/order-ledger.js'
import { SqliteOrderLedger } from './sqlite-order-ledger.js'

/**
 * The order ledger beside the event store (STORE_URL's PostgreSQL, else DATA_DIR), its tables created or
 * migrated on first use. The event store must exist: the ledger follows its events.
 */
export async function openOrderLedger(config: Config): Promise<OrderLedger> {
  if (config.storeUrl === undefined) return new SqliteOrderLedger(config.dataDir)
  const { PostgresOrderLedger } = await import('./postgres/postgres-order-ledger.js')
  return PostgresOrderLedger.open(config.storeUrl)
}
