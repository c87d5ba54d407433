import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { expect, it, onTestFinished } from 'vitest'
import { uniqueName } from '../forward/sinks/helpers.js'
import { eventually, tempDir } from '../helpers/index.js'
import { CLI, freePort, inheritedEnv } from '../helpers/relay-process.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const PAGE = join(ROOT, 'docs/first-hour.md')

/** A fenced block of the page: its info string's words and attributes, and its text. */
interface Block {
  readonly lang: string
  readonly attrs: Readonly<Record<string, string | true>>
  readonly text: string
}

function blocks(markdown: string): Block[] {
  return [...markdown.matchAll(/^```(\S+)([^\n]*)\n([\s\S]*?)^```$/gm)].map((m) => {
    const attrs: Record<string, string | true> = {}
    for (const word of m[2]!.trim().split(/\s+/).filter(Boolean)) {
      const [key, value] = word.split('=')
      attrs[key!] = value ?? true
    }
    return { lang: m[1]!, attrs, text: m[3]! }
  })
}

/** The page's words for a command, as this test runs it: the built CLI for `npx tylt-relay`. */
const argvOf = (line: string): string[] => {
  const words = line.trim().split(/\s+/)
  if (words[0] === 'npx' && words[1] === 'tylt-relay') return [process.execPath, CLI, ...words.slice(2)]
  if (words[0] === 'node') return [process.execPath, ...words.slice(1)]
  return words
}

interface Terminal {
  readonly child: ChildProcess
  output: string
}

it('runs every command of docs/first-hour.md, and what the page says happens, happens', {
  timeout: 180_000,
}, async () => {
  // Names of this run's own, so parallel runs never share a stream; the ports free ones.
  const names = {
    'tylt-events': uniqueName('first-hour-events'),
    'tylt-legacy': uniqueName('first-hour-legacy'),
  }
  const unique = (text: string) =>
    Object.entries(names).reduce((t, [name, own]) => t.replaceAll(name, own), text)
  const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 })
  onTestFinished(async () => {
    await redis.del(...Object.values(names)).catch(() => undefined)
    redis.disconnect()
  })
  const cwd = tempDir('tylt-relay-first-hour-')
  // `npm install tylt-relay ioredis`, without the network: the package and ioredis linked in.
  mkdirSync(join(cwd, 'node_modules'))
  symlinkSync(ROOT, join(cwd, 'node_modules', 'tylt-relay'))
  symlinkSync(join(ROOT, 'node_modules', 'ioredis'), join(cwd, 'node_modules', 'ioredis'))
  writeFileSync(join(cwd, 'package.json'), '{"type":"module","private":true}')
  const env = { ...inheritedEnv(), PORT: String(await freePort()), OPS_PORT: String(await freePort()) }

  const terminals: Terminal[] = []
  onTestFinished(() => {
    for (const t of terminals) if (t.child.exitCode === null) t.child.kill('SIGKILL')
  })
  const run = (argv: string[]) =>
    new Promise<{ code: number; out: string }>((resolve) => {
      execFile(
        argv[0]!,
        argv.slice(1),
        { cwd, env, encoding: 'utf8', timeout: 60_000 },
        (err, stdout, stderr) =>
          resolve({ code: err === null ? 0 : Number(err.code ?? -1), out: stdout + stderr }),
      )
    })
  const all = () => terminals.map((t) => t.output).join('\n')

  const page = blocks(readFileSync(PAGE, 'utf8'))
  expect(page.filter((b) => b.lang === 'sh').length).toBeGreaterThanOrEqual(6)
  for (const block of page) {
    const text = unique(block.text)
    if (block.lang === 'dotenv') writeFileSync(join(cwd, '.env'), text)
    else if (block.lang === 'js' && typeof block.attrs.file === 'string')
      writeFileSync(join(cwd, block.attrs.file), text)
    else if (block.lang === 'sh' && block.attrs.terminal === true) {
      const [file, ...args] = argvOf(text)
      const terminal: Terminal = {
        child: spawn(file!, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] }),
        output: '',
      }
      for (const stream of [terminal.child.stdout!, terminal.child.stderr!])
        stream.setEncoding('utf8').on('data', (chunk: string) => (terminal.output += chunk))
      terminals.push(terminal)
      await eventually(
        async () => terminal.output,
        (out) => out.includes(String(block.attrs.ready)),
        30_000,
      )
    } else if (block.lang === 'sh') {
      if (typeof block.attrs.after === 'string') {
        const word = block.attrs.after
        await eventually(
          async () => all(),
          (out) => new RegExp(`\\b${word}\\b`).test(out),
          60_000,
        )
      }
      for (const line of text.split('\n').filter((l) => l.trim() !== '')) {
        const { code, out } = await run(argvOf(line))
        expect(code, `${line}\n${out}`).toBe(0)
      }
    }
  }

  const [, tail, consumer] = terminals
  // What the page says the consumer prints.
  await eventually(
    async () => consumer!.output,
    (out) => out.includes('upi UPI-2 9 failure'),
    30_000,
  )
  const consumed = consumer!.output.split('\n')
  expect(consumed).toContain('eu-open-banking EU-1 7 refunded shop:EU-1:7')
  expect(consumed.filter((l) => l.startsWith('upi UPI-1 ')).map((l) => l.split(' ')[2])).toEqual([
    '1',
    '2',
    '3',
    '4',
  ])
  expect(consumed).toContain('upi UPI-1 4 success shop:UPI-1:4')
  // What the page says the tail prints for the dead letter: failed, dead, replayed, delivered.
  await eventually(
    async () => tail!.output,
    (out) => /delivered +legacy +cpg-payout +PAYOUT-1/.test(out),
    30_000,
  )
  const payout = tail!.output
    .split('\n')
    .filter((l) => l.includes('PAYOUT-1'))
    .map((l) => l.split(/\s+/)[1])
  expect(payout[0]).toBe('accepted')
  expect(payout).toContain('failed')
  expect(payout.slice(-3)).toEqual(['dead', 'replayed', 'delivered'])
  expect(await redis.xlen(names['tylt-legacy'])).toBe(1)
  // Every triggered event was accepted and delivered.
  const accepted = tail!.output.split('\n').filter((l) => / accepted /.test(l)).length
  expect(accepted).toBe(tail!.output.split('\n').filter((l) => / delivered /.test(l)).length)
  expect(accepted).toBeGreaterThanOrEqual(20)
})
