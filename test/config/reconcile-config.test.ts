import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import { currentApiKey } from '../../src/config/reconcile-config.js'
import { tempDir } from '../helpers/index.js'

const SECRET = 'cpg-secret-2f9c1d0a'
const KEY = 'apikey-7f3c9e1b5a'

const problemsOf = (env: Record<string, string>): string => {
  try {
    loadConfig(env)
  } catch (err) {
    return (err as Error).message
  }
  throw new Error('expected a configuration error')
}

describe('reconcile configuration', () => {
  it('is off by default and points at Tylt', () => {
    const { reconcile } = loadConfig({ TYLT_SECRET_CPG: SECRET })
    expect(reconcile).toMatchObject({
      intervalMs: 0,
      afterMs: 15 * 60_000,
      maxAgeMs: 72 * 3_600_000,
      rate: 2,
      timeoutMs: 10_000,
      signing: 'auto',
      targets: [],
    })
  })

  it('reads a key per service, with a base URL of its own or the common one', () => {
    const { reconcile } = loadConfig({
      TYLT_SECRET_CPG: SECRET,
      TYLT_SECRET_PRIME_UPI: 'upi-secret-new-77a1',
      TYLT_APIKEY_CPG: KEY,
      TYLT_APIKEY_PRIME_UPI: 'another-key-31',
      TYLT_API_URL: 'https://tylt.example/',
      TYLT_API_URL_PRIME_UPI: 'http://127.0.0.1:9999',
      RECONCILE_INTERVAL: '5m',
    })
    expect(reconcile.intervalMs).toBe(300_000)
    expect(reconcile.targets.map((t) => [t.service, t.url])).toEqual([
      ['cpg', 'https://tylt.example'],
      ['prime-upi', 'http://127.0.0.1:9999'],
    ])
    const cpg = reconcile.targets[0]!
    expect(currentApiKey(cpg)).toBe(KEY)
    // A stray log of the configuration cannot print the key.
    expect(JSON.stringify(reconcile)).not.toContain(KEY)
    expect(String(cpg.apiKey)).not.toContain(KEY)
  })

  it('reads a key file again at every use, and keeps the last key when the file breaks', () => {
    const dir = tempDir()
    const file = join(dir, 'apikey')
    writeFileSync(file, `# cpg\n${KEY}\n`)
    const { reconcile } = loadConfig({ TYLT_SECRET_CPG: SECRET, TYLT_APIKEY_CPG_FILE: file })
    const target = reconcile.targets[0]!
    expect(currentApiKey(target)).toBe(KEY)
    writeFileSync(file, 'rotated-key-22\n')
    expect(currentApiKey(target)).toBe('rotated-key-22')
    writeFileSync(file, '')
    expect(currentApiKey(target)).toBe(KEY)
  })

  it('lists every mistake at once, never quoting a key', () => {
    const message = problemsOf({
      TYLT_SECRET_CPG: SECRET,
      TYLT_APIKEY_NOPE: 'key-of-no-service-91',
      TYLT_APIKEY_CPG_FILE: '/no/such/file',
      TYLT_API_URL: 'ftp://tylt',
      RECONCILE_INTERVAL: '5',
      RECONCILE_MAX_AGE: '0',
      RECONCILE_GET_SIGNING: 'both',
    })
    expect(message).toContain('TYLT_APIKEY_NOPE: no service "nope" is configured')
    expect(message).toContain('TYLT_APIKEY_CPG_FILE: cannot read the API key file it names (ENOENT)')
    expect(message).toContain('TYLT_API_URL must be an http:// or https:// URL')
    expect(message).toContain('RECONCILE_INTERVAL must be 0 (off) or a duration')
    expect(message).toContain('RECONCILE_MAX_AGE must be a duration')
    expect(message).toContain('RECONCILE_GET_SIGNING must be one of json, query, auto')
    expect(message).not.toContain('key-of-no-service-91')
  })

  it('refuses a key a header cannot carry, without quoting it', () => {
    const message = problemsOf({ TYLT_SECRET_CPG: SECRET, TYLT_APIKEY_CPG: 'two words' })
    expect(message).toContain('TYLT_APIKEY_CPG: the API key holds characters a header cannot carry')
    expect(message).not.toContain('two words')
  })
})
