import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { describe, expect, test } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import { tempDir } from '../helpers/index.js'

const TOKEN = 'ops-token-for-the-console-77c1'
const base = { TYLT_SECRET_CPG: 'cpg-secret-for-the-console-tests' }

const problemsOf = (env: Record<string, string>): string => {
  try {
    loadConfig(env)
  } catch (err) {
    return (err as Error).message
  }
  throw new Error('expected a configuration error')
}

describe('OPS_TOKEN and OPS_TOKEN_FILE', () => {
  test('unset, the console is off', () => {
    expect(loadConfig(base).opsToken).toBeUndefined()
    expect(loadConfig({ ...base, OPS_TOKEN: '  ' }).opsToken).toBeUndefined()
  })

  test('OPS_TOKEN is kept as a key that never prints', () => {
    const config = loadConfig({ ...base, OPS_TOKEN: ` ${TOKEN} ` })
    expect(config.opsToken?.export().toString()).toBe(TOKEN)
    expect(inspect(config, { depth: 5 })).not.toContain(TOKEN)
    expect(JSON.stringify(config)).not.toContain(TOKEN)
  })

  test('OPS_TOKEN_FILE is read (its first line)', () => {
    const file = join(tempDir(), 'ops-token')
    writeFileSync(file, `${TOKEN}\nignored\n`)
    expect(
      loadConfig({ ...base, OPS_TOKEN_FILE: file })
        .opsToken?.export()
        .toString(),
    ).toBe(TOKEN)
  })

  test('a short token is refused without being quoted', () => {
    const message = problemsOf({ ...base, OPS_TOKEN: 'short-token' })
    expect(message).toContain('OPS_TOKEN must hold at least 16 characters')
    expect(message).not.toContain('short-token')
  })

  test('both set, or an unreadable file, is a problem that names the variable', () => {
    expect(problemsOf({ ...base, OPS_TOKEN: TOKEN, OPS_TOKEN_FILE: '/x' })).toContain(
      'OPS_TOKEN and OPS_TOKEN_FILE are both set',
    )
    expect(problemsOf({ ...base, OPS_TOKEN_FILE: '/nonexistent/ops-token' })).toBe(
      'invalid configuration:\n  - OPS_TOKEN_FILE: cannot read the token file it names (ENOENT); it must hold a path, not a token',
    )
    const empty = join(tempDir(), 'empty')
    writeFileSync(empty, '\n')
    expect(problemsOf({ ...base, OPS_TOKEN_FILE: empty })).toContain('OPS_TOKEN_FILE must hold at least 16')
  })

  test('the token itself where the path belongs is never printed, nor is the path', () => {
    expect(problemsOf({ ...base, OPS_TOKEN_FILE: TOKEN })).toBe(
      'invalid configuration:\n  - OPS_TOKEN_FILE: cannot read the token file it names (ENOENT); it must hold a path, not a token',
    )
    const folder = tempDir()
    expect(problemsOf({ ...base, OPS_TOKEN_FILE: folder })).toBe(
      'invalid configuration:\n  - OPS_TOKEN_FILE: cannot read the token file it names (EISDIR); it must hold a path, not a token',
    )
  })
})
