import pino, { type Logger } from 'pino'
import { onTestFinished } from 'vitest'
import type {
  QuarantineDropCause,
  QuarantineObserver,
  QuarantineReason,
  QuarantineStats,
  RefusedRequest,
} from '../../src/core/quarantine-store.js'
import {
  QuarantineReceiver,
  type QuarantineReceiverOptions,
} from '../../src/quarantine/quarantine-receiver.js'
import { SqliteQuarantineStore } from '../../src/quarantine/sqlite-quarantine-store.js'
import { tempDir } from '../helper.js'

/** A request as the webhook route hands it over after a 401. */
export function refusedRequest(overrides: Partial<RefusedRequest> = {}): RefusedRequest {
  return {
    receivedAt: 1_765_000_000_000,
    reason: 'mismatch',
    path: '/webhooks/cpg',
    service: 'cpg',
    sourceAddress: '203.0.113.7',
    signature: 'ab'.repeat(32),
    contentType: 'application/json',
    userAgent: 'tylt/1',
    body: Buffer.from('{"data":{"orderId":"o-1"}}'),
    fromVerifiedSource: false,
    ...overrides,
  }
}

/** A quarantine store in a fresh temp folder, closed when the test ends. */
export function quarantineStore(dataDir = tempDir(), busyTimeoutMs = 0): SqliteQuarantineStore {
  const store = new SqliteQuarantineStore(dataDir, { busyTimeoutMs })
  onTestFinished(() => store.close())
  return store
}

/** What the receiver told the metrics. */
export function recordingObserver() {
  const quarantined: QuarantineReason[] = []
  const services: string[] = []
  const dropped = new Map<QuarantineDropCause, number>()
  let stats: QuarantineStats | undefined
  const observer: QuarantineObserver = {
    onQuarantined: (reason, service) => {
      quarantined.push(reason)
      services.push(service)
    },
    onDropped: (cause, count) => void dropped.set(cause, (dropped.get(cause) ?? 0) + count),
    onStats: (s) => {
      stats = s
    },
  }
  return { observer, quarantined, services, dropped, stats: () => stats }
}

/** Log lines as parsed objects, from a pino logger at `level`. */
export function capturedLogger(level = 'info'): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = []
  const logger = pino(
    { level },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  )
  return { logger, lines }
}

/** A receiver over `store`, closed when the test ends. */
export function receiver(
  options: Partial<QuarantineReceiverOptions> & Pick<QuarantineReceiverOptions, 'store'>,
): QuarantineReceiver {
  const r = new QuarantineReceiver({
    logger: pino({ level: 'silent' }),
    maxBytes: 64 * 1024 * 1024,
    maxAgeMs: 7 * 86_400_000,
    ...options,
  })
  onTestFinished(() => r.close())
  return r
}
