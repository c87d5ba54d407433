import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { onTestFinished } from 'vitest'

/** A port nobody listens on right now: the kernel picks it, the test hands it to the relay. */
export async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

export interface RelayProcess {
  readonly url: string
  readonly opsUrl: string
  readonly child: ChildProcess
  /** Everything the process printed, for assertion messages. */
  output(): string
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

export interface StartOptions {
  readonly cwd: string
  /** The command and its arguments, e.g. the Dockerfile's CMD. */
  readonly command: readonly string[]
  readonly env: Record<string, string>
  readonly readyTimeoutMs?: number
}

/**
 * Starts the relay as a real process on free ports with only the given environment (plus PATH), and waits
 * until /readyz answers 200. It is killed when the test ends, whatever happened.
 */
export async function startRelay(options: StartOptions): Promise<RelayProcess> {
  const [port, opsPort] = [await freePort(), await freePort()]
  const [file, ...args] = options.command
  const child = spawn(file!, args, {
    cwd: options.cwd,
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      OPS_HOST: '127.0.0.1',
      OPS_PORT: String(opsPort),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let printed = ''
  child.stdout?.on('data', (chunk: Buffer) => (printed += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (printed += chunk.toString()))
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  const relay: RelayProcess = {
    url: `http://127.0.0.1:${port}`,
    opsUrl: `http://127.0.0.1:${opsPort}`,
    child,
    output: () => printed,
    async stop(signal = 'SIGTERM') {
      child.kill(signal)
      return exited
    },
  }
  await waitReady(relay, exited, options.readyTimeoutMs ?? 20_000)
  return relay
}

async function waitReady(relay: RelayProcess, exited: Promise<unknown>, timeoutMs: number): Promise<void> {
  let gone = false
  void exited.then(() => (gone = true))
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline && !gone) {
    const ok = await fetch(`${relay.opsUrl}/readyz`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`relay not ready (${gone ? 'it exited' : 'timeout'}):\n${relay.output()}`)
}

/** Polls until `check` holds; rejects with the last value seen so a failure says what was there. */
export async function eventually<T>(
  read: () => Promise<T>,
  check: (value: T) => boolean,
  timeoutMs = 10_000,
) {
  const deadline = Date.now() + timeoutMs
  let value = await read()
  while (!check(value)) {
    if (Date.now() > deadline) throw new Error(`condition not met; last value:\n${String(value)}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
    value = await read()
  }
  return value
}

/** The value of one sample in Prometheus text (first match), or undefined when absent. */
export function sample(
  metrics: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of metrics.split('\n')) {
    if (line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line)
    if (match === null || match[1] !== name) continue
    const set = match[2] ?? ''
    if (Object.entries(labels).every(([key, value]) => set.includes(`${key}="${value}"`))) {
      return Number(match[3])
    }
  }
  return undefined
}
