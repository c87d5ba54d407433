import type { AddressInfo } from 'node:net'
import { onTestFinished } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import { createLogger } from '../../src/logger.js'
import { createRelay, type Relay } from '../../src/relay.js'
import { tempDir } from './temp-dir.js'

export interface TestRelay {
  readonly relay: Relay
  /** Base URL of the webhook listener, and of the operations listener. */
  readonly url: string
  readonly opsUrl: string
  readonly port: number
  /** The environment it was configured from (DATA_DIR included). */
  readonly env: Record<string, string>
  /** Every log line so far, as written (JSON). */
  readonly lines: string[]
  /** The log as one text, for assertions and their messages. */
  output(): string
  metrics(): Promise<string>
  /** Stops it as SIGTERM would, within SHUTDOWN_GRACE; resolves with what the stop reported. */
  stop(): ReturnType<Relay['stop']>
  /** Set by `onFatal`: the relay asked the process to exit. */
  readonly fatal: string[]
}

const origin = (address: AddressInfo | string | null) => `http://127.0.0.1:${(address as AddressInfo).port}`

/**
 * The whole relay of `tylt-relay serve` (store, forwarders, quarantine, both listeners) in this process, on
 * loopback ports the kernel picks, configured from `env` alone (plus a temporary DATA_DIR), its log kept in
 * memory. Stopped when the test ends. Tests about the process itself (signals, exit codes, SIGKILL, memory)
 * use startRelay from relay-process.ts instead.
 */
export async function startTestRelay(env: Record<string, string>): Promise<TestRelay> {
  const fullEnv = {
    DATA_DIR: tempDir(),
    HOST: '127.0.0.1',
    OPS_HOST: '127.0.0.1',
    PORT: '0',
    OPS_PORT: '0',
    ...env,
  }
  const config = loadConfig(fullEnv)
  const lines: string[] = []
  const logger = createLogger(config.logLevel, { write: (line: string) => void lines.push(line.trimEnd()) })
  const fatal: string[] = []
  const relay = await createRelay(config, logger, { onFatal: (reason) => void fatal.push(reason) })
  onTestFinished(async () => {
    await relay.stop(0)
  })
  await relay.start()
  const opsUrl = origin(relay.ops.server.address())
  return {
    relay,
    url: origin(relay.app.server.address()),
    opsUrl,
    port: (relay.app.server.address() as AddressInfo).port,
    env: fullEnv,
    lines,
    output: () => lines.join('\n'),
    metrics: async () => (await fetch(`${opsUrl}/metrics`)).text(),
    stop: () => relay.stop(config.shutdownGraceMs),
    fatal,
  }
}
