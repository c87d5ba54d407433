import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { connect as netConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { onTestFinished } from 'vitest'
import type { RelayEvent } from '../../../src/core/event.js'

/** The command line of a Redis of a test's own: loopback only, nothing kept on disk, `dir` for its files. */
export const redisServerArgs = (port: number, dir = tmpdir()): string[] => [
  '--port',
  String(port),
  '--bind',
  '127.0.0.1',
  '--save',
  '',
  '--appendonly',
  'no',
  '--dir',
  dir,
]

/** A unique suffix so parallel test files never share a stream, exchange, queue or subject. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`
}

/** Bodies a byte-exact relay must keep: pretty JSON, non-ASCII text, and bytes that are not UTF-8 at all. */
export const BODIES: readonly Buffer[] = [
  Buffer.from('{"order_id":"ord-1","status":"paid","note":"₹ 1 000 — café 🍵"}'),
  Buffer.from('  \n[{"a": 1}]\n'),
  Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0d, 0x0a, 0xc3, 0x28, 0x7b]),
  Buffer.from('status=paid&amount=10'),
]

/** N distinct events, cycling through BODIES and varying which optional metadata is known. */
export function makeEvents(count: number, service = 'prime-upi'): RelayEvent[] {
  const run = randomBytes(4).toString('hex')
  return Array.from({ length: count }, (_, index) => {
    const base = BODIES[index % BODIES.length]!
    return {
      id: `evt_${run}_${index}`,
      service,
      acceptedAt: 1_700_000_000_123 + index * 1000,
      signature: randomBytes(32).toString('hex'),
      orderId: index % 2 === 0 ? `ord-${index}` : null,
      merchantOrderId: index % 3 === 0 ? `m-${index}` : null,
      status: index % 2 === 0 ? 'paid' : null,
      product: 'unknown',
      final: 'unknown',
      recovered: null,
      deadline: null,
      // A per-event suffix keeps bodies distinct, so a duplicate or a swap cannot pass unnoticed.
      body: Buffer.concat([base, Buffer.from(` #${index}`)]),
    }
  })
}

export { freePort } from '../../helpers/ports.js'

export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = netConnect(port, '127.0.0.1')
      socket.once('connect', () => resolve(true))
      socket.once('error', () => resolve(false))
    }).catch(() => false)
    if (open) return
    await sleep(50)
  }
  throw new Error(`port ${port} did not open within ${timeoutMs} ms`)
}

/** Starts a throw-away broker process on its own port (never the shared instances). */
export async function startProcess(
  command: string,
  args: readonly string[],
  port: number,
): Promise<ChildProcess> {
  const child = spawn(command, args, {
    cwd: tmpdir(),
    env: { PATH: process.env.PATH ?? '' },
    stdio: 'ignore',
  })
  await waitForPort(port)
  return child
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGKILL')
  await exited
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * Freezes a broker process (SIGSTOP) so that it keeps its sockets open and answers nothing, and returns
 * once the kernel reports it stopped (the signal is delivered asynchronously). Resumed when the test ends.
 */
export async function freeze(pid: number): Promise<void> {
  process.kill(pid, 'SIGSTOP')
  onTestFinished(() => {
    process.kill(pid, 'SIGCONT')
  })
  const status = `/proc/${pid}/status`
  while (!/^State:\s+T/m.test(readFileSync(status, 'utf8'))) await sleep(10)
}
