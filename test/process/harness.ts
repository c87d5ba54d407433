import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { onTestFinished } from 'vitest'

/** The built CLI: process tests run what ships (`npm test` builds first). */
export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))

const run = promisify(execFile)

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await sleep(50)
  }
}

export interface RelayProcess {
  readonly child: ChildProcess
  readonly pid: number
  readonly port: number
  readonly opsPort: number
  readonly env: Record<string, string>
  /** Every stdout and stderr line so far. */
  readonly stdout: string[]
  readonly stderr: string[]
  url(path: string): string
  /** Resident memory of the process, in KiB, from /proc. */
  rssKiB(): number
  metrics(): Promise<string>
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>
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

/** Starts `node dist/cli.js serve` on loopback ports of its own; stopped when the test ends. */
export async function startRelay(env: Record<string, string>): Promise<RelayProcess> {
  if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` first')
  const port = await freePort()
  const opsPort = await freePort()
  const fullEnv = {
    PATH: process.env.PATH ?? '',
    HOST: '127.0.0.1',
    OPS_HOST: '127.0.0.1',
    PORT: String(port),
    OPS_PORT: String(opsPort),
    ...env,
  }
  const child = spawn(process.execPath, [CLI, 'serve'], { env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] })
  const stdout: string[] = []
  const stderr: string[] = []
  collect(child.stdout, stdout)
  collect(child.stderr, stderr)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  const relay: RelayProcess = {
    child,
    pid: child.pid!,
    port,
    opsPort,
    env: fullEnv,
    stdout,
    stderr,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    rssKiB() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8')
      return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1])
    },
    async metrics() {
      return (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text()
    },
    async stop() {
      child.kill('SIGTERM')
      return exited
    },
  }
  await eventually(async () => {
    if (child.exitCode !== null) throw new Error(`relay exited: ${stderr.join('\n')}`)
    return stdout.some((line) => line.includes('tylt-relay ready'))
  }, 10_000)
  return relay
}

/** Runs a CLI command with the given environment; resolves with its output and exit code. */
export async function cli(args: readonly string[], env: Record<string, string>, input?: Buffer) {
  const options = {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8' as const,
    timeout: 20_000,
  }
  const pending = run(process.execPath, [CLI, ...args], options)
  if (input !== undefined) pending.child.stdin?.end(input)
  else pending.child.stdin?.end()
  try {
    const { stdout, stderr } = await pending
    return { code: 0, stdout, stderr }
  } catch (err) {
    const failure = err as { code?: number; stdout?: string; stderr?: string }
    return { code: failure.code ?? -1, stdout: failure.stdout ?? '', stderr: failure.stderr ?? '' }
  }
}

/** The ids of the events the relay's store holds, read by `events list --json` as an operator would. */
export async function storedIds(env: Record<string, string>): Promise<string[]> {
  const { code, stdout, stderr } = await cli(['events', 'list', '--json', '--limit', '1000000'], env)
  if (code !== 0) throw new Error(`events list failed: ${stderr}`)
  return (JSON.parse(stdout) as { id: string }[]).map((e) => e.id)
}

/** A value of a Prometheus sample, matched by name and label substring; 0 when absent. */
export function metricValue(text: string, name: string, labels: readonly string[] = []): number {
  let total = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue
    if (!labels.every((label) => line.includes(label))) continue
    total += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return total
}
