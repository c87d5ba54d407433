import { type ChildProcess, spawn } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, symlinkSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { onTestFinished } from 'vitest'
import { tempDir } from '../helpers/index.js'
import { inheritedEnv } from '../helpers/relay-process.js'

const ROOT = resolve(import.meta.dirname, '../..')
export const EXAMPLES = join(ROOT, 'docker/consumer')

export interface ExampleConsumer {
  readonly child: ChildProcess
  /** Its project folder: pass it again to start the same consumer after a crash. */
  readonly dir: string
  /** Every stdout and stderr line so far. */
  readonly output: string[]
  /** The JSON lines printed so far, one per event handled. */
  events(): Record<string, string | null>[]
  /** Resolves with the exit code, or the signal that ended it. */
  readonly exited: Promise<number | string>
}

/**
 * Runs one of docker/consumer's examples as a merchant's project does: the file in a folder of its own, with
 * tylt-relay (this checkout, so its built dist) and the broker clients in its node_modules, as the image
 * lays them out. Killed when the test ends.
 */
export function startExample(file: string, env: Record<string, string>, cwd?: string): ExampleConsumer {
  const dir = cwd ?? tempDir('tylt-relay-example-')
  if (!existsSync(join(dir, file))) {
    if (!existsSync(join(ROOT, 'dist/consumer/index.js')))
      throw new Error('dist/consumer is missing: run `npm run build`')
    mkdirSync(join(dir, 'node_modules'))
    symlinkSync(ROOT, join(dir, 'node_modules', 'tylt-relay'))
    for (const client of ['ioredis', 'amqplib'])
      symlinkSync(join(ROOT, 'node_modules', client), join(dir, 'node_modules', client))
    copyFileSync(join(EXAMPLES, file), join(dir, file))
  }
  const child = spawn(process.execPath, [file], {
    cwd: dir,
    env: { ...inheritedEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output: string[] = []
  for (const stream of [child.stdout, child.stderr])
    createInterface({ input: stream }).on('line', (line) => output.push(line))
  const exited = new Promise<number | string>((done) =>
    child.once('exit', (code, signal) => done(code ?? signal ?? 'unknown')),
  )
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  const events = () =>
    output.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, string>)
  return { child, dir, output, events, exited }
}
