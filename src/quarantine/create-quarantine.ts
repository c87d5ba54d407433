import type { Logger } from 'pino'
import type { Config } from '../config/load-config.js'
import type { QuarantineObserver } from '../core/quarantine-store.js'
import { QuarantineReceiver } from './quarantine-receiver.js'
import { SqliteQuarantineStore } from './sqlite-quarantine-store.js'

/**
 * The relay's quarantine, or undefined when QUARANTINE_MAX_BYTES is 0 or its file cannot be opened: the
 * relay then answers exactly as without one (a refused request is lost, as before), and says so.
 */
export function createQuarantine(
  config: Pick<Config, 'dataDir' | 'quarantineMaxBytes' | 'quarantineMaxAgeMs'>,
  logger: Logger,
  observer?: QuarantineObserver,
): QuarantineReceiver | undefined {
  if (config.quarantineMaxBytes === 0) return undefined
  let store: SqliteQuarantineStore
  try {
    store = new SqliteQuarantineStore(config.dataDir, { busyTimeoutMs: 0 })
  } catch (err) {
    logger.error({ err }, 'quarantine cannot be opened; refused requests will not be kept')
    return undefined
  }
  return new QuarantineReceiver({
    store,
    logger,
    observer,
    maxBytes: config.quarantineMaxBytes,
    maxAgeMs: config.quarantineMaxAgeMs,
  })
}
