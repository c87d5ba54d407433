import { describe, expect, it } from 'vitest'
import type { AdmissionLimits } from '../../src/admission/admission-limits.js'
import { addressKey, SourceBudget } from '../../src/admission/source-budget.js'

/** A budget of 1,000 bytes refilled at 100 a second, on a clock the test moves. */
function budget(limits: Partial<AdmissionLimits> = {}) {
  let now = 1_000_000
  const instance = new SourceBudget(
    { budgetBytes: 1_000, refillBytesPerSecond: 100, penaltyMs: 5_000, sources: 100, ...limits },
    () => now,
  )
  const advance = (ms: number) => {
    now += ms
  }
  return { instance, advance }
}

describe('SourceBudget', () => {
  it('charges bytes read, and penalises a source once a refusal finds its budget empty, for penaltyMs', () => {
    const { instance, advance } = budget()
    instance.charge('192.0.2.1', 600)
    expect(instance.penalised('192.0.2.1')).toBe(false)
    // One costly refusal may empty it whatever was left: what it read was read.
    instance.charge('192.0.2.1', 60_000)
    expect(instance.penalised('192.0.2.1')).toBe(true)
    // Refilled meanwhile, still penalised until the penalty is over.
    advance(4_999)
    expect(instance.penalised('192.0.2.1')).toBe(true)
    advance(1)
    expect(instance.penalised('192.0.2.1')).toBe(false)
    // Refilled at 100 bytes a second from empty (never in debt): 500 bytes after five seconds.
    instance.charge('192.0.2.1', 499)
    expect(instance.penalised('192.0.2.1')).toBe(false)
    instance.charge('192.0.2.1', 1)
    expect(instance.penalised('192.0.2.1')).toBe(true)
  })

  it('has no bucket shared by all sources: 250 addresses out of budget penalise nobody else', () => {
    const { instance } = budget({ sources: 1_000 })
    for (let i = 0; i < 250; i++) instance.charge(`203.0.113.${i % 250}`, 10_000)
    expect(instance.penalised('203.0.113.7')).toBe(true)
    expect(instance.penalised('198.51.100.1')).toBe(false)
    instance.charge('198.51.100.1', 999)
    expect(instance.penalised('198.51.100.1')).toBe(false)
  })

  it('remembers at most `sources` addresses, the stalest forgotten first', () => {
    const { instance } = budget({ sources: 3 })
    for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']) instance.charge(ip, 2_000)
    expect(instance.tracked).toBe(3)
    expect(instance.penalised('10.0.0.1')).toBe(false)
    expect(instance.penalised('10.0.0.4')).toBe(true)
    for (let i = 0; i < 20; i++) instance.verified(`10.1.0.${i}`)
    expect(instance.verifiedRecently('10.1.0.0')).toBe(false)
    expect(instance.verifiedRecently('10.1.0.19')).toBe(true)
  })

  it('a source counts as verified for verifiedMs after its last verified callback', () => {
    const { instance, advance } = budget({ verifiedMs: 10_000 })
    expect(instance.verifiedRecently('192.0.2.9')).toBe(false)
    instance.verified('192.0.2.9')
    advance(9_999)
    expect(instance.verifiedRecently('192.0.2.9')).toBe(true)
    advance(1)
    expect(instance.verifiedRecently('192.0.2.9')).toBe(false)
  })

  it('keys IPv6 by its /64 and IPv4-mapped addresses by their IPv4 form', () => {
    expect(addressKey('2001:db8:0:1::1')).toBe('2001:db8:0:1::/64')
    expect(addressKey('2001:0db8:0000:0001:ffff:ffff:ffff:ffff')).toBe('2001:db8:0:1::/64')
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64')
    expect(addressKey('::1')).toBe('0:0:0:0::/64')
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7')
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7')
    const { instance } = budget()
    for (let i = 0; i < 3; i++) instance.charge(`2001:db8:0:1::${i.toString(16)}`, 400)
    expect(instance.penalised('2001:db8:0:1:dead:beef:0:1')).toBe(true)
    expect(instance.penalised('2001:db8:0:2::1')).toBe(false)
  })
})
