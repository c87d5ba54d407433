import pino, { type Logger } from 'pino'
import { onTestFinished } from 'vitest'
import { type AppDeps, buildApp } from '../../src/app.js'
import { type Config, loadConfig } from '../../src/config/load-config.js'
import { SecretRegistry } from '../../src/config/secret-registry.js'
import type { StoredEvent } from '../../src/core/event.js'
import { createMetrics, type Metrics } from '../../src/ops/metrics.js'
import { GroupCommitStore, type SyncFile } from '../../src/store/group-commit-store.js'
import { SqliteStore } from '../../src/store/sqlite-store.js'
import { SECRETS } from './sign.js'
import { tempDir } from './temp-dir.js'

/** The environment of a relay with two services, `cpg` and `prime-upi` (mid-rotation), in a temp folder. */
export function testEnv(
  overrides: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    TYLT_SECRET_CPG: SECRETS.cpg,
    TYLT_SECRET_PRIME_UPI: `${SECRETS.upiCurrent},${SECRETS.upiOlder}`,
    DATA_DIR: tempDir(),
    ...overrides,
  }
}

export interface TestApp {
  readonly app: ReturnType<typeof buildApp>
  readonly config: Config
  readonly store: GroupCommitStore
  readonly metrics: Metrics
  readonly logger: Logger
  /** What the store holds, read through a separate connection, oldest first. */
  stored(): StoredEvent[]
}

/**
 * Builds the webhook app on a real store in a temp folder; closed when the test ends. `options.sync` replaces
 * the store's fdatasync of its log (to hold it back or fail it).
 */
export async function buildTestApp(
  overrides: Record<string, string | undefined> = {},
  logger: Logger = pino({ level: 'silent' }),
  {
    sync,
    ...deps
  }: Pick<AppDeps, 'admission' | 'quarantine' | 'sources' | 'onAccepted'> & {
    readonly sync?: SyncFile
  } = {},
): Promise<TestApp> {
  const config = loadConfig(testEnv(overrides))
  const store = new GroupCommitStore(config.dataDir, { sync })
  const metrics = createMetrics({ stats: () => store.stats() })
  const secrets = new SecretRegistry(config.services, logger)
  const app = buildApp(config, { logger, store, secrets, observers: metrics, ...deps })
  onTestFinished(async () => {
    await app.close()
    await store.close()
  })
  const stored = () => {
    const reader = new SqliteStore(config.dataDir)
    try {
      return reader.list({ limit: 1_000_000 }).reverse()
    } finally {
      reader.close()
    }
  }
  return { app, config, store, metrics, logger, stored }
}

/** POSTs a callback through `inject`, signed with `signature` (sent as given, even when malformed). */
export function postWebhook(app: TestApp['app'], url: string, payload: Buffer | string, signature: string) {
  return app.inject({ method: 'POST', url, headers: { 'x-tlp-signature': signature }, payload })
}
