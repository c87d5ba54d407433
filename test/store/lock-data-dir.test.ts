import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { hostname } from 'node:os'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, onTestFinished } from 'vitest'
import { GroupCommitStore } from '../../src/store/group-commit-store.js'
import { lockDataDir } from '../../src/store/lock-data-dir.js'
import { SECRETS, sign, tempDir } from '../helpers/index.js'
import { runCli } from '../helpers/relay-process.js'

const BUILT = fileURLToPath(new URL('../../dist/store/lock-data-dir.js', import.meta.url))

/** The message a relay refused on `dataDir` gets while `pid` (on this host) holds it. */
const inUse = (dataDir: string, pid: number) =>
  new RegExp(
    `^DATA_DIR ${dataDir} is in use by another tylt-relay \\(pid ${pid} on ${hostname()}, since ` +
      '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\\): two relays on one store would deliver every event ' +
      'twice and out of order\\. Stop the other one, or give this one its own DATA_DIR$',
  )

/** A separate process that takes the lock as the relay does (the built module) and prints what happened. */
function locker(dataDir: string): { child: ChildProcess; said: Promise<string> } {
  const script = `import(${JSON.stringify(BUILT)}).then((m) => {
    try { m.lockDataDir(${JSON.stringify(dataDir)}); console.log('locked'); setInterval(() => {}, 60_000) }
    catch (err) { console.error(err.message); process.exit(1) }
  })`
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: dataDir,
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  let out = ''
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()))
  const said = new Promise<string>((resolve) => {
    child.stdout?.on('data', () => out.includes('locked') && resolve(out.trim()))
    child.once('exit', () => resolve(out.trim()))
  })
  return { child, said }
}

describe('lockDataDir', () => {
  it('keeps a second holder out with a clear message until the first lets go', () => {
    const dataDir = tempDir()
    const release = lockDataDir(dataDir)
    expect(() => lockDataDir(dataDir)).toThrow(inUse(dataDir, process.pid))
    expect(() => lockDataDir(dataDir)).toThrow(expect.objectContaining({ code: 'TYLT_DATA_DIR_IN_USE' }))
    release()
    release()
    const again = lockDataDir(dataDir)
    again()
  })

  it('refuses a second process, names the first, and frees the folder when the first is killed', async () => {
    const dataDir = tempDir()
    const first = locker(dataDir)
    expect(await first.said).toBe('locked')

    const second = locker(dataDir)
    const [code] = (await once(second.child, 'exit')) as [number]
    expect(code).toBe(1)
    expect(await second.said).toMatch(inUse(dataDir, first.child.pid!))
    expect(() => lockDataDir(dataDir)).toThrow(inUse(dataDir, first.child.pid!))

    // A SIGKILLed holder leaves no stale lock: the kernel drops it with the process.
    first.child.kill('SIGKILL')
    await once(first.child, 'exit')
    const third = locker(dataDir)
    expect(await third.said).toBe('locked')
  })

  it('leaves the event store to the command line while a relay holds the folder', async () => {
    const dataDir = tempDir()
    const store = new GroupCommitStore(dataDir)
    const body = Buffer.from('{"data":{"orderId":"lock-1"}}')
    await store.append({
      id: 'evt_lock_1',
      service: 'cpg',
      acceptedAt: Date.now(),
      signature: sign(SECRETS.cpg, body),
      orderId: 'lock-1',
      merchantOrderId: null,
      status: null,
      product: 'unknown',
      final: 'unknown',
      recovered: null,
      deadline: null,
      body,
    })
    await store.close()
    const holder = locker(dataDir)
    expect(await holder.said).toBe('locked')
    const env = { DATA_DIR: dataDir }
    const listed = await runCli(['events', 'list'], env)
    expect(listed.stderr).toBe('')
    expect(listed.stdout).toContain('evt_lock_1')
    const backup = await runCli(['store', 'backup', `${tempDir()}/b.sqlite`], env)
    expect(backup.stderr).toBe('')
    expect(backup.stdout).toMatch(/^backed up 1 events \(1 pending, 0 dead\)/)
  })
})
