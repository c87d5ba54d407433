import { copyFileSync, readdirSync, readlinkSync, symlinkSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, onTestFinished } from 'vitest'
import { fixture } from '../helpers/fixtures.js'
import { SECRETS, sign, tempDir } from '../helpers/index.js'
import { post, startRelay } from '../helpers/relay-process.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** A checkout without a `.env`: package.json, dist and node_modules of this one, nothing else. */
function checkout(): string {
  const dir = tempDir('tylt-relay-npm-')
  copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'))
  symlinkSync(join(ROOT, 'dist'), join(dir, 'dist'))
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
  return dir
}

/** Processes whose working directory is `dir`: only ones this test started can be there. */
function processesIn(dir: string): string[] {
  return readdirSync('/proc').filter((pid) => {
    if (!/^\d+$/.test(pid)) return false
    try {
      return readlinkSync(`/proc/${pid}/cwd`) === dir
    } catch {
      return false // gone, or not ours to read
    }
  })
}

const portIsFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })

describe('npm start under a supervisor', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    '%s to npm drains the relay, exits 0 within SHUTDOWN_GRACE, frees both ports, leaves no node behind',
    async (signal) => {
      const dir = checkout()
      const relay = await startRelay(
        {
          TYLT_SECRET_CPG: SECRETS.cpg,
          DATA_DIR: join(dir, 'data'),
          SHUTDOWN_GRACE: '5s',
          HOME: dir,
          npm_config_update_notifier: 'false',
        },
        { command: ['npm', 'start'], cwd: dir },
      )
      // Whatever the outcome, nothing this test started outlives it (runs before the folder is removed).
      onTestFinished(() => {
        for (const pid of processesIn(dir)) process.kill(Number(pid), 'SIGKILL')
      })
      const body = fixture('cpg-pay-in.json')
      expect(await post(`${relay.url}/webhooks/cpg`, body, sign(SECRETS.cpg, body))).toEqual({
        status: 200,
        body: 'ok',
      })
      const opsPort = Number(new URL(relay.opsUrl).port)
      expect(processesIn(dir).length).toBeGreaterThan(1) // npm, and the relay it started
      const started = Date.now()
      expect(await relay.stop(signal)).toBe(0)
      expect(Date.now() - started).toBeLessThan(5_000)
      expect(relay.output()).toContain('"drained":true')
      expect(processesIn(dir)).toEqual([])
      expect([await portIsFree(relay.port), await portIsFree(opsPort)]).toEqual([true, true])
    },
  )

  it('Ctrl-C in a terminal (SIGINT to npm and the relay at once) stops it once: exit 0, no "already stopping"', async () => {
    const dir = checkout()
    const relay = await startRelay(
      {
        TYLT_SECRET_CPG: SECRETS.cpg,
        DATA_DIR: join(dir, 'data'),
        SHUTDOWN_GRACE: '5s',
        HOME: dir,
        npm_config_update_notifier: 'false',
      },
      // A shell runs a foreground job in a process group of its own; the terminal signals the whole group.
      { command: ['npm', 'start'], cwd: dir, detached: true },
    )
    onTestFinished(() => {
      for (const pid of processesIn(dir)) process.kill(Number(pid), 'SIGKILL')
    })
    relay.signalGroup('SIGINT')
    expect(await relay.exited, relay.output()).toBe(0)
    const lines = relay.stdout.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string })
    expect(lines.filter((l) => l.msg.startsWith('stopping'))).toHaveLength(1)
    expect(relay.output()).not.toContain('already stopping')
    expect(relay.output()).toContain('"drained":true')
    expect(processesIn(dir)).toEqual([])
  })
})
