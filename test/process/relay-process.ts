import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { onTestFinished } from 'vitest'
import { freePort } from '../ops/relay-process.js'

// Reconstructed from its uses in crash.test.ts after it was overwritten by mistake; see the hardening
// report. The process tests of the hardening work use ./harness.ts.

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))

export interface RelayProcess {
  readonly url: string
  readonly opsUrl: string
  readonly child: ChildProcess
  output(): string
  /** Sends a signal (unless the process is gone) and resolves with the exit code, or the signal that ended it. */
  stop(signal?: NodeJS.Signals): Promise<number | string | null>
}

/** `node dist/cli.js serve` on free loopback ports with only `env` (plus PATH); killed when the test ends. */
export async function startRelay(env: Record<string, string>): Promise<RelayProcess> {
  const [port, opsPort] = [await freePort(), await freePort()]
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      OPS_HOST: '127.0.0.1',
      OPS_PORT: String(opsPort),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let printed = ''
  child.stdout?.on('data', (chunk: Buffer) => (printed += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (printed += chunk.toString()))
  const exited = once(child, 'exit').then(
    ([code, signal]) => (code as number | null) ?? (signal as string | null),
  )
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  const relay: RelayProcess = {
    url: `http://127.0.0.1:${port}`,
    opsUrl: `http://127.0.0.1:${opsPort}`,
    child,
    output: () => printed,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
  const deadline = Date.now() + 20_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`relay exited:\n${printed}`)
    const ready = await fetch(`${relay.opsUrl}/readyz`).then(
      (r) => r.ok,
      () => false,
    )
    if (ready) return relay
    if (Date.now() > deadline) throw new Error(`relay not ready:\n${printed}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** POSTs a signed body; resolves with the status and the answer's text. */
export async function post(url: string, body: Buffer, signature: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-tlp-signature': signature },
    body,
  })
  return { status: response.status, body: await response.text() }
}

/** Runs the built CLI synchronously with only `env` (plus PATH). */
export function runCli(args: readonly string[], env: Record<string, string>) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}
