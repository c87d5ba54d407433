import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import { tempDir } from '../helpers/index.js'

/** A secret long enough to be accepted. */
const SECRET = 'cpg-secret-2f9c1d0a'

const problemsOf = (env: Record<string, string>): string => {
  try {
    loadConfig(env)
  } catch (err) {
    expect((err as { code?: string }).code).toBe('TYLT_CONFIG')
    return (err as Error).message
  }
  throw new Error('expected a configuration error')
}

describe('loadConfig', () => {
  it('applies the documented defaults and freezes the result', () => {
    const config = loadConfig({ TYLT_SECRET_CPG: SECRET })
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 3000,
      opsHost: '0.0.0.0',
      opsPort: 9090,
      dataDir: './data',
      bodyLimit: 262_144,
      dedupWindowMs: 72 * 3_600_000,
      retryMaxAgeMs: 72 * 3_600_000,
      shutdownGraceMs: 30_000,
      signatureJsonFallback: true,
      logLevel: 'info',
      trustProxy: undefined,
      forward: undefined,
    })
    expect(Object.isFrozen(config)).toBe(true)
  })

  it('maps TYLT_SECRET_PRIME_UPI to the service prime-upi, secrets comma-separated, current first', () => {
    const config = loadConfig({ TYLT_SECRET_PRIME_UPI: ' new-secret-0123456 , old-secret-0123456 ,' })
    expect(config.services.map((s) => [s.name, s.secrets.length])).toEqual([['prime-upi', 2]])
    expect(config.services[0]!.secrets[0]!.export().toString()).toBe('new-secret-0123456')
  })

  it('reads TYLT_SECRET_<NAME>_FILE, one secret per line', () => {
    const file = join(tempDir(), 'cpg')
    writeFileSync(file, 'first-secret-0123456\r\nsecond-secret-0123456\n\n')
    const [service] = loadConfig({ TYLT_SECRET_CPG_FILE: file }).services
    expect(service).toMatchObject({ name: 'cpg', file })
    expect(service!.secrets.map((k) => k.export().toString())).toEqual([
      'first-secret-0123456',
      'second-secret-0123456',
    ])
  })

  it('needs at least one service', () => {
    expect(problemsOf({})).toContain('no service is configured')
  })

  it('names an unreadable secret file without printing any secret', () => {
    const message = problemsOf({ TYLT_SECRET_CPG_FILE: '/nonexistent/cpg-secret' })
    expect(message).toContain(
      'TYLT_SECRET_CPG_FILE: cannot read the secret file it names (ENOENT); it must hold a path, not a secret',
    )
  })

  it('lists every problem at once', () => {
    const message = problemsOf({
      TYLT_SECRET_CPG: 'super-secret-value',
      PORT: 'eighty',
      BODY_LIMIT: '-1',
      RETRY_MAX_AGE: '72',
      DEDUP_WINDOW: 'forever',
      SIGNATURE_JSON_FALLBACK: 'maybe',
      LOG_LEVEL: 'loud',
      FORWARD_URL: 'ftp://example.invalid/x',
    })
    for (const name of [
      'PORT',
      'BODY_LIMIT',
      'RETRY_MAX_AGE',
      'DEDUP_WINDOW',
      'SIGNATURE_JSON_FALLBACK',
      'LOG_LEVEL',
      'FORWARD_URL',
    ]) {
      expect(message).toContain(name)
    }
    expect(message.split('\n').filter((line) => line.startsWith('  - '))).toHaveLength(7)
    expect(message).not.toContain('super-secret-value')
  })

  it('refuses a bare number as a duration, saying which unit to use', () => {
    expect(problemsOf({ TYLT_SECRET_CPG: SECRET, SHUTDOWN_GRACE: '30' })).toContain(
      'SHUTDOWN_GRACE must be a duration with a unit such as 30s',
    )
  })

  it('refuses an empty secret and a service configured twice', () => {
    expect(problemsOf({ TYLT_SECRET_CPG: ' , ' })).toContain('TYLT_SECRET_CPG is empty')
    const file = join(tempDir(), 'cpg')
    writeFileSync(file, `${SECRET}\n`)
    expect(problemsOf({ TYLT_SECRET_CPG: SECRET, TYLT_SECRET_CPG_FILE: file })).toContain(
      'already configured',
    )
  })

  it('never quotes a signing secret or a URL password in its messages', () => {
    const message = problemsOf({
      TYLT_SECRET_CPG: SECRET,
      FORWARD_URL: 'redis://user:hunter2-password@127.0.0.1:6379',
      FORWARD_SIGNING_SECRET: 'whsec_not*base64*hunter3',
    })
    expect(message).toContain('FORWARD_URL')
    expect(message).not.toContain('hunter2')
    expect(message).not.toContain('hunter3')
  })

  it('takes TRUST_PROXY as false, a hop count or a list', () => {
    expect(loadConfig({ TYLT_SECRET_CPG: SECRET, TRUST_PROXY: 'false' }).trustProxy).toBe(false)
    expect(loadConfig({ TYLT_SECRET_CPG: SECRET, TRUST_PROXY: '2' }).trustProxy).toBe(2)
    expect(loadConfig({ TYLT_SECRET_CPG: SECRET, TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).trustProxy).toEqual([
      '10.0.0.0/8',
      '127.0.0.1',
    ])
  })

  it('does not require a service for commands that only read the store', () => {
    expect(loadConfig({}, { requireServices: false }).services).toEqual([])
  })
})
