// Child processes and temporary folders of one bench run, and their clean-up whatever happens: every child
// is killed (by its own pid) and every folder removed on a normal exit, an error, or Ctrl-C.
import { spawn, spawnSync } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const children = new Set()

/**
 * A child's environment: PATH and what the bench sets, never the rest of the caller's (a PORT or FORWARD_URL
 * exported in the shell would otherwise reconfigure the relay being measured). Its working directory is the
 * system's temporary one unless given, so no `.env` of the checkout is read either.
 */
const childEnv = (env) => ({ PATH: process.env.PATH ?? '', ...env })
const folders = new Set()

export const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0

function cleanUp() {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  children.clear()
  for (const dir of folders) rmSync(dir, { recursive: true, force: true })
  folders.clear()
}
process.on('exit', cleanUp)
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    process.stderr.write(`\nbench: ${signal}, cleaning up\n`)
    cleanUp()
    process.exit(130)
  })
}

/** Memory-backed: an fdatasync there returns at once, so a server's CPU decides its throughput. */
export const TMPFS = '/dev/shm'

/** A fresh folder under `base` (the system's temporary folder, or TMPFS), removed on exit. */
export function tempFolder(prefix = 'tylt-bench-', base = tmpdir()) {
  const dir = mkdtempSync(join(base, prefix))
  folders.add(dir)
  return dir
}

export function removeFolder(dir) {
  rmSync(dir, { recursive: true, force: true })
  folders.delete(dir)
}

/**
 * The command line that runs `command` on `core` (when taskset exists). BENCH_SERVER_CORES (e.g. `0,1`)
 * widens core 0, the server's, for investigating what pinning costs; the reported runs leave it unset.
 */
function pinned(command, args, core) {
  if (!hasTaskset || core === undefined) return [command, args]
  const cores = core === 0 && process.env.BENCH_SERVER_CORES ? process.env.BENCH_SERVER_CORES : String(core)
  return ['taskset', ['-c', cores, command, ...args]]
}

/** Starts `command` pinned to `core` (when taskset exists); output goes to `logFile` or is ignored. */
export function start(command, args, { core, env, cwd, logFile } = {}) {
  const fd = logFile === undefined ? 'ignore' : openSync(logFile, 'a')
  const [file, argv] = pinned(command, args, core)
  // taskset execs the command, so the pid is the command's own: /proc/<pid>/status describes the server.
  const child = spawn(file, argv, { cwd: cwd ?? tmpdir(), env: childEnv(env), stdio: ['ignore', fd, fd] })
  if (typeof fd === 'number') closeSync(fd)
  children.add(child)
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  child.exited.then(() => children.delete(child))
  return child
}

/** Starts `command` pinned like start, its stdin and stdout piped: a child the bench talks to while it runs. */
export function startPiped(command, args, { core, env } = {}) {
  const [file, argv] = pinned(command, args, core)
  const child = spawn(file, argv, { cwd: tmpdir(), env: childEnv(env), stdio: ['pipe', 'pipe', 'inherit'] })
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

/** Runs `command` to the end (pinned like start) and returns its stdout; rejects on a non-zero exit. */
export function run(command, args, { core, env, cwd } = {}) {
  const [file, argv] = pinned(command, args, core)
  const child = spawn(file, argv, {
    cwd: cwd ?? tmpdir(),
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => (stdout += chunk))
  child.stderr.on('data', (chunk) => (stderr += chunk))
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => {
      children.delete(child)
      if (code === 0) resolve(stdout)
      else reject(new Error(`${command} exited with ${code}: ${stderr.trim() || stdout.trim()}`))
    })
  })
}

/** Sends SIGTERM and waits; SIGKILL after `graceMs`. Resolves with the exit code (or signal name). */
export async function stop(child, graceMs = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode ?? child.signalCode
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  const { code, signal } = await child.exited
  clearTimeout(timer)
  return code ?? signal
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `probe` until it resolves truthy; fails early when `child` exits, or after `timeoutMs`. */
export async function waitUntil(what, probe, { child, timeoutMs = 15_000, logFile } = {}) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child !== undefined && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`${what}: the process exited (${child.exitCode ?? child.signalCode})${tail(logFile)}`)
    }
    if (await probe().catch(() => false)) return
    await sleep(50)
  }
  throw new Error(`${what}: not ready after ${timeoutMs} ms${tail(logFile)}`)
}

/** Whether something accepts a TCP connection on 127.0.0.1:`port` right now. */
export const portOpen = (port) =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })

/**
 * Fails when a port the bench is about to give a server is taken: otherwise its readiness probe (or the
 * footprint's connect) would be answered by whatever holds it, and the run would measure that instead.
 */
export async function assertPortsFree(...ports) {
  for (const port of ports)
    if (await portOpen(port))
      throw new Error(`port ${port} is already in use (another bench run?); choose others with BENCH_PORT`)
}

function tail(logFile) {
  if (logFile === undefined) return ''
  try {
    const lines = readFileSync(logFile, 'utf8').trim().split('\n').slice(-5)
    return `\n  last log lines:\n    ${lines.join('\n    ')}`
  } catch {
    return ''
  }
}

/** Resident memory of a process, in bytes: current (VmRSS) and peak so far (VmHWM). */
export function memory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') }
  } catch {
    return { rss: 0, hwm: 0 }
  }
}

/** CPU time (user + system, all threads) a process has used so far, in microseconds. */
export function cpuTimeUs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10_000
  } catch {
    return 0
  }
}

/** Samples the RSS of `pid` every `everyMs` until stopped; `stop()` returns the samples and the peak. */
export function sampleMemory(pid, everyMs = 250) {
  const samples = []
  const startedAt = Date.now()
  const take = () => samples.push({ at: Date.now() - startedAt, ...memory(pid) })
  take()
  const timer = setInterval(take, everyMs)
  return {
    stop() {
      clearInterval(timer)
      take()
      const peak = Math.max(...samples.map((s) => Math.max(s.rss, s.hwm)))
      return { samples, peak }
    },
  }
}
