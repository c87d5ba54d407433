import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import { tempDir, testEnv } from '../helpers/index.js'

const URL_WITH_PASSWORD = 'postgresql://relay:s3cr3t-pw@db.internal:5432/payments?sslmode=require'

/** The configuration error `env` gets, beside the test services. */
const problems = (env: Record<string, string>) => {
  try {
    loadConfig(testEnv(env))
  } catch (err) {
    return (err as Error).message
  }
  throw new Error('accepted')
}

describe('STORE_URL', () => {
  it('is unset by default: the embedded store in DATA_DIR', () => {
    expect(loadConfig(testEnv()).storeUrl).toBeUndefined()
  })

  it('takes postgres:// and postgresql:// URLs, and never shows the password', () => {
    const config = loadConfig(testEnv({ STORE_URL: URL_WITH_PASSWORD }))
    expect(config.storeUrl?.connectionString()).toBe(URL_WITH_PASSWORD)
    expect(config.storeUrl?.redacted).toBe('postgres://db.internal:5432/payments')
    expect(JSON.stringify(config)).not.toContain('s3cr3t-pw')
    expect(String(config.storeUrl)).not.toContain('s3cr3t-pw')
    expect(loadConfig(testEnv({ STORE_URL: 'postgres://127.0.0.1/x' })).storeUrl?.kind).toBe('postgres')
  })

  it('reads the URL from STORE_URL_FILE (a mounted Secret)', () => {
    const file = join(tempDir(), 'store-url')
    writeFileSync(file, `${URL_WITH_PASSWORD}\n`)
    expect(loadConfig(testEnv({ STORE_URL_FILE: file })).storeUrl?.connectionString()).toBe(URL_WITH_PASSWORD)
  })

  it('lists every problem without quoting the URL', () => {
    expect(problems({ STORE_URL: 'mysql://u:s3cr3t-pw@h/db' })).toContain(
      'STORE_URL must start with postgres://',
    )
    expect(problems({ STORE_URL: 'not a url s3cr3t-pw' })).toContain('STORE_URL is not a URL')
    expect(problems({ STORE_URL: URL_WITH_PASSWORD, STORE_URL_FILE: '/x' })).toContain('set only one')
    expect(problems({ STORE_URL_FILE: '/nonexistent/store-url' })).toBe(
      'invalid configuration:\n  - STORE_URL_FILE: cannot read the URL file it names (ENOENT); it must hold a path, not a URL',
    )
    for (const env of [{ STORE_URL: 'mysql://u:s3cr3t-pw@h/db' }, { STORE_URL: 'not a url s3cr3t-pw' }]) {
      expect(problems(env)).not.toContain('s3cr3t-pw')
    }
  })

  it('never prints STORE_URL_FILE: the URL pasted in its place, nor the path of a file holding a bad URL', () => {
    expect(problems({ STORE_URL_FILE: URL_WITH_PASSWORD })).toBe(
      'invalid configuration:\n  - STORE_URL_FILE: cannot read the URL file it names (ENOENT); it must hold a path, not a URL',
    )
    const file = join(tempDir(), 'store-url-s3cr3t')
    writeFileSync(file, 'mysql://relay:s3cr3t-pw@db.internal/payments\n')
    expect(problems({ STORE_URL_FILE: file })).toBe(
      'invalid configuration:\n  - the URL in STORE_URL_FILE must start with postgres:// or postgresql:// (unset it for the store in DATA_DIR)',
    )
  })
})
