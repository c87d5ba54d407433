import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { webhookLineWriter } from '../../src/webhook/webhook-line.js'

/** A writer whose output is kept as the exact lines written, on a clock the test moves. */
function writer(limits = { burst: 2, perSecond: 1, sources: 10 }) {
  const out: string[] = []
  const log = pino({ base: null, timestamp: false }, { write: (line: string) => void out.push(line.trim()) })
  let now = 0
  const write = webhookLineWriter(log, limits, () => now)
  const advance = (ms: number) => {
    now += ms
  }
  return { out, write, advance }
}

const refusal = (ip: string, statusCode = 401) => ({ statusCode, ip, outcome: 'invalid_signature' })

describe('webhookLineWriter', () => {
  it('writes acceptances at info and refusals (401, 404, 413, 503) at warn', () => {
    const { out, write } = writer({ burst: 10, perSecond: 1, sources: 10 })
    write({ statusCode: 200, ip: '192.0.2.1', outcome: 'accepted' })
    for (const status of [401, 404, 413, 503]) write(refusal('192.0.2.1', status))
    expect(out).toEqual([
      '{"level":30,"statusCode":200,"ip":"192.0.2.1","outcome":"accepted","msg":"webhook"}',
      '{"level":40,"statusCode":401,"ip":"192.0.2.1","outcome":"invalid_signature","msg":"webhook"}',
      '{"level":40,"statusCode":404,"ip":"192.0.2.1","outcome":"invalid_signature","msg":"webhook"}',
      '{"level":40,"statusCode":413,"ip":"192.0.2.1","outcome":"invalid_signature","msg":"webhook"}',
      '{"level":40,"statusCode":503,"ip":"192.0.2.1","outcome":"invalid_signature","msg":"webhook"}',
    ])
  })

  it('rate-limits refusal lines per source; the next line written says how many were suppressed', () => {
    const { out, write, advance } = writer()
    for (let i = 0; i < 5; i++) write(refusal('192.0.2.1'))
    // Another source has a budget of its own; acceptances are never limited.
    write(refusal('198.51.100.2'))
    for (let i = 0; i < 3; i++) write({ statusCode: 200, ip: '192.0.2.1', outcome: 'accepted' })
    advance(1_000)
    write(refusal('192.0.2.1'))
    write(refusal('192.0.2.1'))
    const line401 = (ip: string, extra = '') =>
      `{"level":40,"statusCode":401,"ip":"${ip}","outcome":"invalid_signature"${extra},"msg":"webhook"}`
    const accepted = '{"level":30,"statusCode":200,"ip":"192.0.2.1","outcome":"accepted","msg":"webhook"}'
    expect(out).toEqual([
      line401('192.0.2.1'),
      line401('192.0.2.1'),
      line401('198.51.100.2'),
      accepted,
      accepted,
      accepted,
      line401('192.0.2.1', ',"suppressed":3'),
    ])
  })
})
