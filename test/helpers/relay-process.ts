import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { onTestFinished } from 'vitest'
import { eventually } from './eventually.js'
import { freePort } from './ports.js'
import { tempDir } from './temp-dir.js'

/** The built CLI: process tests run what ships (`npm test` builds first). */
export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))

/** The node flags of the CLI's first line (`#!/usr/bin/env -S node FLAGS`), which every launcher passes too. */
export const RELAY_NODE_FLAGS: readonly string[] = readFileSync(
  fileURLToPath(new URL('../../src/cli.ts', import.meta.url)),
  'utf8',
)
  .split('\n', 1)[0]!
  .replace(/^#!\/usr\/bin\/env -S node\s*/, '')
  .split(' ')
  .filter(Boolean)

export { freePort } from './ports.js'

export interface RelayProcess {
  readonly child: ChildProcess
  readonly port: number
  /** Base URL of the webhook listener, and of the operations listener. */
  readonly url: string
  readonly opsUrl: string
  /** The environment it runs with. */
  readonly env: Record<string, string>
  /** Every stdout and stderr line so far. */
  readonly stdout: string[]
  readonly stderr: string[]
  /** stdout and stderr as one text, for assertion messages. */
  output(): string
  /** Resident memory of the process, in KiB, from /proc. */
  rssKiB(): number
  metrics(): Promise<string>
  /** Sends a signal (unless the process is gone); resolves with the exit code, or the signal that ended it. */
  stop(signal?: NodeJS.Signals): Promise<number | string>
  /** Resolves with the exit code, or the signal that ended it. */
  readonly exited: Promise<number | string>
  /** Sends a signal to its whole process group, as a terminal does on Ctrl-C (needs `detached`). */
  signalGroup(signal: NodeJS.Signals): void
}

export interface StartOptions {
  /** The working directory; an empty temporary one by default, so no `.env` of the developer is read. */
  readonly cwd?: string
  /** The command and its arguments, e.g. the Dockerfile's CMD; `node FLAGS dist/cli.js serve` by default. */
  readonly command?: readonly string[]
  readonly readyTimeoutMs?: number
  /**
   * What to wait for: `/readyz` answering 200 (the default), `/healthz` answering 200 (listening, maybe not
   * ready), or nothing (a relay expected to exit).
   */
  readonly waitFor?: 'ready' | 'live' | 'nothing'
  /** In a process group of its own, as a shell starts a foreground job: see `signalGroup`. */
  readonly detached?: boolean
}

function collect(stream: NodeJS.ReadableStream | null, into: string[]) {
  let rest = ''
  stream?.setEncoding('utf8')
  stream?.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n')
    rest = parts.pop() ?? ''
    into.push(...parts)
  })
  stream?.on('end', () => {
    if (rest !== '') into.push(rest)
  })
}

/** The only variable a child inherits: the developer's other variables (PORT, FORWARD_URL...) never leak in. */
export const inheritedEnv = (): Record<string, string> => ({ PATH: process.env.PATH ?? '' })

/**
 * Runs the relay as a real child process on free loopback ports, with only `env` (plus PATH) in its own
 * working directory, and waits
 * until its readiness endpoint answers. Killed when the test ends, whatever happened.
 */
export async function startRelay(
  env: Record<string, string>,
  options: StartOptions = {},
): Promise<RelayProcess> {
  if (options.command === undefined && !existsSync(CLI))
    throw new Error('dist/cli.js is missing: run `npm run build`')
  const [port, opsPort] = [await freePort(), await freePort()]
  const fullEnv: Record<string, string> = {
    ...inheritedEnv(),
    HOST: '127.0.0.1',
    OPS_HOST: '127.0.0.1',
    PORT: String(port),
    OPS_PORT: String(opsPort),
    ...env,
  }
  const [file, ...args] = options.command ?? [process.execPath, ...RELAY_NODE_FLAGS, CLI, 'serve']
  const cwd = options.cwd ?? tempDir('tylt-relay-cwd-')
  const detached = options.detached ?? false
  const child = spawn(file!, args, { cwd, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'], detached })
  const stdout: string[] = []
  const stderr: string[] = []
  collect(child.stdout, stdout)
  collect(child.stderr, stderr)
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  )
  const signalGroup = (signal: NodeJS.Signals) => {
    if (!detached || child.pid === undefined) throw new Error('signalGroup needs a detached child')
    try {
      process.kill(-child.pid, signal)
    } catch {
      // the group is gone
    }
  }
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    if (detached) signalGroup('SIGKILL')
    await exited
  })
  const opsUrl = `http://127.0.0.1:${opsPort}`
  const relay: RelayProcess = {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    opsUrl,
    env: fullEnv,
    stdout,
    stderr,
    output: () => [...stdout, ...stderr].join('\n'),
    rssKiB: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]),
    metrics: async () => (await fetch(`${opsUrl}/metrics`)).text(),
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
    exited,
    signalGroup,
  }
  const waitFor = options.waitFor ?? 'ready'
  if (waitFor === 'nothing') return relay
  const ready = async () => {
    if (child.exitCode !== null) throw new Error(`relay exited with ${child.exitCode}:\n${relay.output()}`)
    return fetch(`${opsUrl}/${waitFor === 'ready' ? 'readyz' : 'healthz'}`).then(
      (r) => r.ok,
      () => false,
    )
  }
  await eventually(ready, (ok) => ok, options.readyTimeoutMs ?? 20_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${relay.output()}`)
  })
  return relay
}

/**
 * Runs a CLI command to completion with only `env` (plus PATH), in `options.cwd` or an empty temporary
 * folder of its own; `input` becomes its stdin.
 */
export function runCli(
  args: readonly string[],
  env: Record<string, string>,
  input?: Buffer | string,
  options: { readonly cwd?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const own = options.cwd === undefined ? mkdtempSync(join(tmpdir(), 'tylt-relay-cli-')) : undefined
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: options.cwd ?? own, env: { ...inheritedEnv(), ...env }, encoding: 'utf8', timeout: 30_000 },
      (err, stdout, stderr) => {
        if (own !== undefined) rmSync(own, { recursive: true, force: true })
        resolve({ code: err === null ? 0 : Number(err.code ?? -1), stdout, stderr })
      },
    )
    child.stdin?.end(input ?? '')
  })
}

/** The events the store holds, read by `events list --json` as an operator would, newest first. */
export async function listEvents(
  env: Record<string, string>,
  state?: string,
): Promise<Record<string, string>[]> {
  const args = [
    'events',
    'list',
    '--json',
    '--limit',
    '1000000',
    ...(state === undefined ? [] : ['--state', state]),
  ]
  const { code, stdout, stderr } = await runCli(args, env)
  if (code !== 0) throw new Error(`events list failed: ${stderr}`)
  return JSON.parse(stdout) as Record<string, string>[]
}

/** POSTs a body to the relay and returns the status and answer. */
export async function post(url: string, body: Buffer | string, signature: string | undefined) {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (signature !== undefined) headers['x-tlp-signature'] = signature
  const response = await fetch(url, { method: 'POST', headers, body })
  return { status: response.status, body: await response.text() }
}
