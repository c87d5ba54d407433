import { spawn, spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { eventually, SECRETS, sign, tempDir } from '../helpers/index.js'
import { CLI, inheritedEnv, runCli } from '../helpers/relay-process.js'

// util-linux `script` runs the command on a pseudo-terminal: stdin is then a terminal, as for a user.
const hasScript = spawnSync('script', ['--version']).status === 0

describe('tylt-relay sign reading a terminal', () => {
  it.skipIf(!hasScript)('says on stderr that it waits for the body, then signs what was typed', async () => {
    const child = spawn('script', ['-qec', `${process.execPath} ${CLI} sign --service cpg`, '/dev/null'], {
      cwd: tempDir(),
      env: { ...inheritedEnv(), TYLT_SECRET_CPG: SECRETS.cpg },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let screen = ''
    child.stdout.on('data', (chunk: Buffer) => (screen += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    await eventually(
      async () => screen,
      (text) => text.includes('reading the body'),
    )
    // The terminal turns the newline into CR LF.
    expect(screen).toBe(
      'tylt-relay: reading the body from stdin; end it with Ctrl-D (or give a FILE instead of -)\r\n',
    )
    // Typed without a newline, then Ctrl-D twice: the first hands over the line, the second ends input.
    child.stdin.write('{"a":1}')
    await new Promise((resolve) => setTimeout(resolve, 200))
    child.stdin.write('\x04')
    await new Promise((resolve) => setTimeout(resolve, 200))
    child.stdin.end('\x04')
    expect(await exited).toBe(0)
    expect(screen).toContain(`${sign(SECRETS.cpg, '{"a":1}')}\r\n`)
  })

  it('says nothing when stdin is not a terminal (a pipe or a file)', async () => {
    const result = await runCli(['sign', '--service', 'cpg'], { TYLT_SECRET_CPG: SECRETS.cpg }, '{"a":1}')
    expect(result).toEqual({ code: 0, stdout: `${sign(SECRETS.cpg, '{"a":1}')}\n`, stderr: '' })
  })
})
