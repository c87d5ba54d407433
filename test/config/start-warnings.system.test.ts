import { copyFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { eventually, SECRETS, tempDir } from '../helpers/index.js'
import { runCli, startRelay } from '../helpers/relay-process.js'

const EXAMPLE_ENV = fileURLToPath(new URL('../../.env.example', import.meta.url))

/** The relay's JSON log lines at `warn` (40), as `msg` texts. */
const warnings = (lines: readonly string[]) =>
  lines
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: number; msg: string })
    .filter((line) => line.level === 40)
    .map((line) => line.msg)

describe('a starting relay', () => {
  it('warns about misspelt variables by name, never by value, and still starts', async () => {
    const relay = await startRelay({
      TYLT_SECRET_PRIME_UPI: SECRETS.upiCurrent,
      TYLT_SECERT_CPG: SECRETS.cpg,
      FORWARD_ULR: 'redis://:hunter2-password@127.0.0.1:6379?stream=tylt',
      DATA_DIR: tempDir(),
    })
    // The log is written asynchronously: wait for the start line, which follows the warnings.
    await eventually(
      async () => relay.output(),
      (out) => out.includes('tylt-relay ready'),
    )
    expect(await relay.stop()).toBe(0)
    expect(warnings(relay.stdout)).toEqual([
      'FORWARD_ULR is not a tylt-relay variable (did you mean FORWARD_URL?); it is ignored',
      'TYLT_SECERT_CPG is not a tylt-relay variable (did you mean TYLT_SECRET_CPG?); it is ignored',
    ])
    expect(relay.output()).not.toContain('hunter2-password')
    expect(relay.output()).not.toContain(SECRETS.cpg)
  })

  it('warns while the public demo service of .env.example is configured', async () => {
    const cwd = tempDir('tylt-relay-demo-')
    copyFileSync(EXAMPLE_ENV, join(cwd, '.env'))
    const relay = await startRelay({}, { cwd })
    await eventually(
      async () => relay.output(),
      (out) => out.includes('tylt-relay ready'),
    )
    expect(await relay.stop()).toBe(0)
    expect(warnings(relay.stdout)).toEqual([
      'TYLT_SECRET_DEMO holds the public demo secret of .env.example: anyone can sign callbacks that /webhooks/demo accepts; for trying the relay only (refused beside other services and with NODE_ENV=production)',
    ])
    expect(relay.output()).not.toContain('demo-secret-change-me')
  })

  it('refuses the public demo secret with NODE_ENV=production, naming the variable', async () => {
    const cwd = tempDir('tylt-relay-demo-')
    copyFileSync(EXAMPLE_ENV, join(cwd, '.env'))
    const started = await runCli(['serve'], { NODE_ENV: 'production' }, undefined, { cwd })
    expect(started).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'tylt-relay: invalid configuration:\n' +
        '  - TYLT_SECRET_DEMO: holds the public demo secret of .env.example, refused with NODE_ENV=production (anyone could sign callbacks); use the secret key from the Tylt dashboard\n',
    })
  })
})
