import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'

describe('TRUST_PROXY', () => {
  it('true is refused at start, naming the risk, among every other problem', () => {
    let message = ''
    try {
      loadConfig({ TYLT_SECRET_CPG: 'cpg-secret-2f9c1d0a', TRUST_PROXY: 'true', PORT: 'many' })
    } catch (err) {
      expect((err as { code?: string }).code).toBe('TYLT_CONFIG')
      message = (err as Error).message
    }
    expect(message).toContain(
      'TRUST_PROXY=true trusts every X-Forwarded-For hop, so any client could claim any address',
    )
    expect(message).toContain('TRUST_PROXY=1')
    expect(message).toContain('PORT')
  })

  it.each([
    ['1', 1],
    ['2', 2],
    ['10.0.0.0/8', ['10.0.0.0/8']],
    ['10.0.0.0/8, fd00::/8', ['10.0.0.0/8', 'fd00::/8']],
    ['false', false],
  ])('%s is taken', (raw, value) => {
    expect(loadConfig({ TYLT_SECRET_CPG: 'cpg-secret-2f9c1d0a', TRUST_PROXY: raw }).trustProxy).toEqual(value)
  })
})
