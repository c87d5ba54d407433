import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseEnv } from 'node:util'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import { DEMO_SECRET } from '../../src/constants.js'
import { tempDir } from '../helpers/index.js'
import { runCli } from '../helpers/relay-process.js'

const GOOD = 'cpg-secret-2f9c1d0a'
const OTHER = 'upi-secret-77a1b0c3'

/** `tylt-relay serve` with only `env`, in a folder of its own: what an operator sees when it refuses to start. */
async function refusal(env: Record<string, string>) {
  const dir = tempDir()
  const result = await runCli(['serve'], { DATA_DIR: join(dir, 'data'), PORT: '0', OPS_PORT: '0', ...env })
  return { ...result, dir }
}

describe('keys the relay refuses at start, never quoting them', () => {
  it('reads the demo secret from .env.example', () => {
    const example = readFileSync(fileURLToPath(new URL('../../.env.example', import.meta.url)), 'utf8')
    expect(parseEnv(example).TYLT_SECRET_DEMO).toBe(DEMO_SECRET)
  })

  it.each([
    [
      'a secret shorter than 16 bytes',
      { TYLT_SECRET_CPG: 'short-7f3a' },
      ['short-7f3a'],
      '  - TYLT_SECRET_CPG: the secret is shorter than 16 bytes; use the secret key from the Tylt dashboard',
    ],
    [
      'one short secret of a rotation list',
      { TYLT_SECRET_CPG: `${GOOD},tiny-9` },
      ['tiny-9', GOOD],
      '  - TYLT_SECRET_CPG: secret 2 of 2 is shorter than 16 bytes; use the secret key from the Tylt dashboard',
    ],
    [
      'the demo secret beside another service',
      { TYLT_SECRET_DEMO: DEMO_SECRET, TYLT_SECRET_CPG: GOOD },
      [DEMO_SECRET, GOOD],
      '  - TYLT_SECRET_DEMO: holds the public demo secret of .env.example while other services are configured (cpg); remove it or use the secret key from the Tylt dashboard',
    ],
    [
      'the demo secret as another service’s secret',
      { TYLT_SECRET_CPG: DEMO_SECRET },
      [DEMO_SECRET],
      '  - TYLT_SECRET_CPG: the secret is the public demo secret of .env.example; use the secret key from the Tylt dashboard',
    ],
    [
      'two services with one secret',
      { TYLT_SECRET_CPG: GOOD, TYLT_SECRET_PRIME_UPI: `${OTHER},${GOOD}` },
      [GOOD, OTHER],
      '  - TYLT_SECRET_PRIME_UPI: holds a secret that TYLT_SECRET_CPG holds too; each Tylt service has its own secret key',
    ],
    [
      'a service name too long for a URL path segment',
      { [`TYLT_SECRET_${'A'.repeat(101)}`]: GOOD },
      [GOOD],
      `  - TYLT_SECRET_${'A'.repeat(101)}: the service name is longer than 100 characters`,
    ],
  ])('%s: exit 1 with the exact message', async (_name, env, values, message) => {
    const { code, stdout, stderr } = await refusal(env)
    expect(code).toBe(1)
    expect(stderr).toBe(`tylt-relay: invalid configuration:\n${message}\n`)
    for (const value of values) expect(stdout + stderr).not.toContain(value)
  })

  it('a short secret in a file is refused, naming the variable only', async () => {
    const file = join(tempDir(), 'cpg')
    writeFileSync(file, `${GOOD}\nshort-1\n`)
    const { code, stderr } = await refusal({ TYLT_SECRET_CPG_FILE: file })
    expect(code).toBe(1)
    expect(stderr).toBe(
      'tylt-relay: invalid configuration:\n  - TYLT_SECRET_CPG_FILE: secret 2 of 2 is shorter than 16 bytes; use the secret key from the Tylt dashboard\n',
    )
  })

  it('the demo service alone, with the demo secret, is the quick start: allowed', () => {
    expect(loadConfig({ TYLT_SECRET_DEMO: DEMO_SECRET }).services.map((s) => s.name)).toEqual(['demo'])
  })
})

describe('a value pasted where a *_FILE variable wants a path', () => {
  const token = 'pasted-ops-token-0c9d4e7a5b21'
  const url = 'postgresql://relay:pasted-pw-61f0@db.internal:5432/payments'
  it.each([
    [
      'TYLT_SECRET_CPG_FILE holding the secret',
      { TYLT_SECRET_CPG_FILE: 'pasted-secret-5d8e2b71' },
      ['pasted-secret-5d8e2b71'],
      '  - TYLT_SECRET_CPG_FILE: cannot read the secret file it names (ENOENT); it must hold a path, not a secret',
    ],
    [
      'OPS_TOKEN_FILE holding the token',
      { TYLT_SECRET_CPG: GOOD, OPS_TOKEN_FILE: token },
      [token, GOOD],
      '  - OPS_TOKEN_FILE: cannot read the token file it names (ENOENT); it must hold a path, not a token',
    ],
    [
      'STORE_URL_FILE holding the URL and its password',
      { TYLT_SECRET_CPG: GOOD, STORE_URL_FILE: url },
      [url, 'pasted-pw-61f0', 'db.internal', GOOD],
      '  - STORE_URL_FILE: cannot read the URL file it names (ENOENT); it must hold a path, not a URL',
    ],
  ])('%s: exit 1 with the exact message, the value nowhere', async (_name, env, values, message) => {
    const { code, stdout, stderr } = await refusal(env)
    expect(code).toBe(1)
    expect(stderr).toBe(`tylt-relay: invalid configuration:\n${message}\n`)
    for (const value of values) expect(stdout + stderr).not.toContain(value)
  })
})

describe('secret files', () => {
  it('ignore blank lines and lines starting with #', () => {
    const file = join(tempDir(), 'cpg')
    writeFileSync(
      file,
      `# rotated 2026-11-30, old one goes on Friday\n\n${GOOD}\r\n  # ${OTHER}\n\n${OTHER}x\n`,
    )
    const [service] = loadConfig({ TYLT_SECRET_CPG_FILE: file }).services
    expect(service!.secrets.map((k) => k.export().toString())).toEqual([GOOD, `${OTHER}x`])
  })

  it('holding only comments is refused like an empty file', () => {
    const file = join(tempDir(), 'cpg')
    writeFileSync(file, '# the secret goes here\n\n')
    expect(() => loadConfig({ TYLT_SECRET_CPG_FILE: file })).toThrow(
      'TYLT_SECRET_CPG_FILE: the secret file holds no secret',
    )
  })
})
