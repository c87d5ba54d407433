import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:http'
import { describe, expect, it, onTestFinished } from 'vitest'
import { eventually, SECRETS, tempDir } from '../helpers/index.js'
import { CLI, freePort, inheritedEnv, runCli, startRelay } from '../helpers/relay-process.js'
import { testSchema } from '../postgres/postgres-helper.js'

/** A downstream that takes everything. */
async function acceptingDownstream(): Promise<string> {
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => res.writeHead(204).end())
  })
  const port = await freePort()
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return `http://127.0.0.1:${port}/tylt`
}

/** `events tail --json` as a child process; its lines as parsed objects, with when each arrived. */
function startTail(env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, [CLI, 'events', 'tail', '--json'], {
    cwd: tempDir('tylt-relay-tail-'),
    env: { ...inheritedEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: { at: number; line: Record<string, unknown> }[] = []
  let stderr = ''
  let rest = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n')
    rest = parts.pop()!
    for (const part of parts)
      lines.push({ at: Date.now(), line: JSON.parse(part) as Record<string, unknown> })
  })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  )
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  return { child, lines, stderr: () => stderr, exited }
}

async function tailSeesTrigger(storeEnv: Record<string, string>) {
  const env = { TYLT_SECRET_CPG: SECRETS.cpg, ...storeEnv }
  const relay = await startRelay({ ...env, FORWARD_URL: await acceptingDownstream() })
  const tail = startTail(env)
  await eventually(
    async () => tail.stderr(),
    (text) => text.includes('following the event store'),
  )
  const sent = await runCli(['trigger', 'pix-pay-in', 'completed', '--order', 'TAIL-1'], {
    ...env,
    PORT: String(relay.port),
  })
  expect(sent.code, sent.stderr).toBe(0)
  const answered = Date.now()
  const forOrder = () => tail.lines.filter((l) => l.line.merchantOrderId === 'TAIL-1')
  await eventually(
    async () => forOrder().length,
    (n) => n >= 2,
    10_000,
  )
  const [accepted, delivered] = forOrder()
  expect(accepted!.line).toMatchObject({
    outcome: 'accepted',
    service: 'cpg',
    product: 'pix',
    status: '4',
    final: 'true',
  })
  expect(delivered!.line).toMatchObject({
    outcome: 'delivered',
    product: 'pix',
    downstream: expect.any(String),
  })
  expect(delivered!.line.id).toBe(accepted!.line.id)
  // Both lines while the tail runs, not at its exit: within 5 s of Tylt's answer (the poll runs every 500 ms;
  // the margin is for a machine busy with other suites).
  expect(delivered!.at - answered).toBeLessThan(5000)
  tail.child.kill('SIGINT')
  expect(await tail.exited).toBe(0)
  expect(tail.lines).toHaveLength(2)
  expect(tail.stderr()).toBe('following the event store, polling every 500 ms; Ctrl-C stops\n')
  expect(await relay.stop()).toBe(0)
}

describe('events tail --json', () => {
  it('prints the accepted and the delivered line of a triggered event, on SQLite, and exits 0 on SIGINT', async () => {
    await tailSeesTrigger({ DATA_DIR: tempDir() })
  })

  it('does the same on PostgreSQL', async () => {
    const { url } = await testSchema()
    await tailSeesTrigger({ STORE_URL: url, DATA_DIR: tempDir() })
  })
})
