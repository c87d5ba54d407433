import { createHmac } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino, { type Logger } from 'pino'
import { onTestFinished } from 'vitest'
import { type AppDeps, buildApp } from '../../src/app.js'
import { type Config, loadConfig } from '../../src/config/load-config.js'
import { SecretRegistry } from '../../src/config/secret-registry.js'
import type { RelayEvent, StoredEvent } from '../../src/core/event.js'
import { createMetrics, type Metrics } from '../../src/ops/metrics.js'
import { GroupCommitStore, type SyncFile } from '../../src/store/group-commit-store.js'
import { SqliteStore } from '../../src/store/sqlite-store.js'

/** Test secrets; the signatures are always computed, never pasted. */
export const SECRETS = {
  cpg: 'cpg-secret-2f9c1d',
  upiCurrent: 'upi-secret-new-77a1',
  upiOlder: 'upi-secret-old-03be',
} as const

export const sign = (secret: string, body: Buffer | string): string =>
  createHmac('sha256', secret).update(body).digest('hex')

/** A fresh temporary folder, removed when the test ends. */
export function tempDir(prefix = 'tylt-relay-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

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

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Reads until `check` holds, or throws after `timeoutMs` saying what was last read. */
export async function eventually<T>(
  read: () => Promise<T>,
  check: (value: T) => boolean,
  timeoutMs = 10_000,
) {
  const deadline = Date.now() + timeoutMs
  let value = await read()
  while (!check(value)) {
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms; last value: ${String(value)}`)
    await sleep(50)
    value = await read()
  }
  return value
}

/**
 * The value of one Prometheus sample (the first whose labels include `labels`), or undefined when the
 * exposition has none.
 */
export function sample(
  metrics: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of metrics.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line)
    if (match === null || match[1] !== name) continue
    const set = match[2] ?? ''
    if (Object.entries(labels).every(([key, value]) => set.includes(`${key}="${value}"`)))
      return Number(match[3])
  }
  return undefined
}

/**
 * An accepted event as the stores and sinks take it: nothing read from the body, not recovered; the test
 * names what matters to it.
 */
export function relayEvent(fields: Pick<RelayEvent, 'id'> & Partial<RelayEvent>): RelayEvent {
  return {
    service: 'cpg',
    acceptedAt: 1_700_000_000_000,
    signature: 'f'.repeat(64),
    orderId: null,
    merchantOrderId: null,
    status: null,
    product: 'unknown',
    final: 'unknown',
    recovered: null,
    body: Buffer.from('{}'),
    ...fields,
  }
}
