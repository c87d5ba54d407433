import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { onTestFinished } from 'vitest'

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

export interface RelayProcess {
  readonly url: string
  readonly opsUrl: string
  readonly child: ChildProcess
  /** Everything the process wrote, stdout and stderr, so far. */
  output(): string
  /** Sends a signal (unless the process is gone) and resolves with the exit code, or the signal that ended it. */
  stop(signal?: NodeJS.Signals): Promise<number | string>
}

/**
 * Runs the built relay (`node dist/cli.js serve`) as a real child process on free loopback ports with only
 * `env` (plus PATH), and waits until its readiness endpoint answers. Killed when the test ends.
 */
export async function startRelay(
  env: Record<string, string | undefined>,
  cwd?: string,
): Promise<RelayProcess> {
  const port = await freePort()
  const opsPort = await freePort()
  const child = spawn(process.execPath, [CLI, 'serve'], {
    cwd,
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      OPS_HOST: '127.0.0.1',
      PORT: String(port),
      OPS_PORT: String(opsPort),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  )
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  const relay: RelayProcess = {
    url: `http://127.0.0.1:${port}`,
    opsUrl: `http://127.0.0.1:${opsPort}`,
    child,
    output: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`relay exited with ${child.exitCode}:\n${output}`)
    const ready = await fetch(`${relay.opsUrl}/readyz`).then(
      (r) => r.ok,
      () => false,
    )
    if (ready) return relay
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  child.kill('SIGKILL')
  throw new Error(`relay not ready within 20 s:\n${output}`)
}

/** Runs a CLI command to completion with only `env` (plus PATH); `input` becomes its stdin. */
export function runCli(
  args: readonly string[],
  env: Record<string, string | undefined>,
  input?: Buffer | string,
) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH, ...env },
    input: input ?? '',
    encoding: 'utf8',
    timeout: 30_000,
  })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** POSTs a body to the relay and returns the status and answer. */
export async function post(url: string, body: Buffer | string, signature: string | undefined) {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (signature !== undefined) headers['x-tlp-signature'] = signature
  const response = await fetch(url, { method: 'POST', headers, body })
  return { status: response.status, body: await response.text() }
}
