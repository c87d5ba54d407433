import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { copyFileSync, readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { eventually, tempDir } from '../helpers/index.js'
import { inheritedEnv, listEvents, type RelayProcess, runCli, startRelay } from '../helpers/relay-process.js'

const ROOT = join(import.meta.dirname, '../..')
const README = readFileSync(join(ROOT, 'README.md'), 'utf8')
/** The port the walkthrough gives its throw-away Redis. */
const PORT = 6390

/** The commands of the README's Redis walkthrough, comments dropped, as a reader would type them. */
function walkthrough(): string[] {
  const block = /\*\*Five minutes with Redis\.\*\*[\s\S]*?```sh\n([\s\S]*?)```/.exec(README)?.[1]
  if (block === undefined) throw new Error('README.md has no Redis walkthrough')
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
}

/** `cmd` in a shell, in `cwd`, as a terminal would run it; its output. */
function shell(cmd: string, cwd: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', cmd], { cwd, env: inheritedEnv(), timeout: 20_000 }, (err, stdout) =>
      resolve({ code: err === null ? 0 : Number(err.code ?? 1), stdout }),
    )
  })
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.end()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })

describe("README's Redis walkthrough", () => {
  it('runs as written on a Redis of its own, port 6390, and its shutdown stops only that one', async (context) => {
    if (await listening(PORT)) context.skip(`port ${PORT} is in use here; the walkthrough needs it`)
    const cwd = tempDir('tylt-relay-readme-')
    copyFileSync(join(ROOT, '.env.example'), join(cwd, '.env'))
    const data = { DATA_DIR: join(cwd, 'data') }
    const newest = async () => (await listEvents(data))[0]!.id as string

    // The quick start before it: the demo on the store alone.
    const alone = await startRelay({}, { cwd })
    expect((await runCli(['send', `${alone.url}/webhooks/demo`], {}, undefined, { cwd })).stdout).toBe(
      '200 ok (accepted)\n',
    )
    const stored = await newest()
    expect(await alone.stop()).toBe(0)

    const redisServers: ChildProcess[] = []
    onTestFinished(() => {
      for (const server of redisServers) server.kill('SIGKILL')
    })
    let relay: RelayProcess | undefined
    const sent: string[] = []
    const ranges: string[] = []
    for (const command of walkthrough()) {
      if (command.startsWith('redis-server ') && command.endsWith('&')) {
        const server = spawn('sh', ['-c', `exec ${command.slice(0, -1)}`], { cwd, stdio: 'ignore' })
        redisServers.push(server)
        await eventually(() => listening(PORT), Boolean)
      } else if (command.endsWith('&& npm start')) {
        expect((await shell(command.replace(/\s*&& npm start$/, ''), cwd)).code).toBe(0)
        relay = await startRelay({}, { cwd })
      } else if (command.startsWith('npx tylt-relay send ')) {
        const args = command.split(/\s+/).slice(2)
        const answer = await runCli(
          args.map((arg) => arg.replace('http://127.0.0.1:3000', relay!.url)),
          {},
          undefined,
          { cwd },
        )
        expect(answer.stdout).toBe('200 ok (accepted)\n')
        sent.push(await newest())
      } else if (command.startsWith('redis-cli ') && command.includes(' XRANGE ')) {
        // Delivery is asynchronous: a reader runs it again until the events show.
        const expected = [...sent]
        const out = await eventually(
          async () => (await shell(command, cwd)).stdout,
          (text) => expected.every((id) => text.includes(id)),
          60_000,
        )
        ranges.push(out)
      } else if (command.startsWith('redis-cli ') && command.includes(' shutdown ')) {
        const server = redisServers.at(-1)!
        const exited = new Promise((resolve) => server.once('exit', resolve))
        await shell(command, cwd)
        await exited
        sent.length = 0
      } else {
        throw new Error(`the walkthrough has a command this test does not know: ${command}`)
      }
    }
    expect(sent).toHaveLength(1)
    expect(ranges).toHaveLength(2)
    // The event of the quick start was accepted with no downstream: it stayed stored.
    for (const range of ranges) expect(range).not.toContain(stored)
    // The Redis everyone else uses, on its default port, was never stopped.
    expect(await listening(6379)).toBe(true)

    const replay = /`(npx tylt-relay events replay[^`]*)`/.exec(README)?.[1]?.replace(/\s+/g, ' ')
    expect(replay).toBe('npx tylt-relay events replay --service demo')
    const replayed = await runCli(replay!.split(' ').slice(2), {}, undefined, { cwd })
    expect(replayed.stdout).toBe('queued 1 stored event(s) of service demo for delivery\n')
    await eventually(
      async () => (await shell(`redis-cli -p ${PORT} XRANGE tylt-events - +`, cwd)).stdout,
      (text) => text.includes(stored),
      60_000,
    )
    expect(await relay!.stop()).toBe(0)
  }, 240_000)
})
