import { describe, expect, it } from 'vitest'
import { addressKey, FailureLimiter, failureCost } from '../../src/verify/failure-limiter.js'

const LIMIT = {
  burst: 3,
  perSecond: 1,
  globalBurst: 10,
  globalPerSecond: 5,
  addresses: 100,
  suspectMs: 60_000,
}

/** A limiter on a clock the test moves. */
function limiter(options = LIMIT) {
  let now = 1_000_000
  const instance = new FailureLimiter(options, () => now)
  const advance = (ms: number) => {
    now += ms
  }
  return { instance, advance }
}

describe('FailureLimiter', () => {
  it('lets `burst` refusals of one address cost in full, then refills at `perSecond`', () => {
    const { instance, advance } = limiter()
    expect([1, 2, 3, 4, 5].map(() => instance.fail('10.0.0.1'))).toEqual([true, true, true, false, false])
    expect(instance.allows('10.0.0.1')).toBe(false)
    // Other addresses are not affected.
    expect(instance.allows('10.0.0.2')).toBe(true)
    advance(1_000)
    expect(instance.allows('10.0.0.1')).toBe(true)
    expect([instance.fail('10.0.0.1'), instance.fail('10.0.0.1')]).toEqual([true, false])
  })

  it('counts cost, not requests: one costly refusal spends the burst, going into debt, and makes the next one a suspect’s', () => {
    const { instance, advance } = limiter({
      ...LIMIT,
      burst: 8 * 1024 * 1024,
      perSecond: 1024 * 1024,
      globalBurst: 1e12,
    })
    const forgery = failureCost(262_144, 40, false)
    expect(forgery).toBe(10 * 1024 * 1024)
    expect(instance.anySuspect()).toBe(false)
    expect(instance.fail('10.0.0.1', forgery)).toBe(true)
    expect(instance.allows('10.0.0.1')).toBe(false)
    expect(instance.fail('10.0.0.1', forgery)).toBe(false)
    expect([instance.anySuspect(), instance.suspect('10.0.0.1'), instance.suspect('10.0.0.2')]).toEqual([
      true,
      true,
      false,
    ])
    // Small refusals (a rotation mistake: 3 KB, 2 keys and the fallback) fit the limit at over a hundred a second.
    const small = failureCost(3_000, 2, true)
    expect(Math.floor((8 * 1024 * 1024) / small)).toBeGreaterThan(100)
    advance(3_000)
    expect(instance.allows('10.0.0.1')).toBe(true)
  })

  it('bounds the total across addresses: rotating addresses buys nothing past the global bucket', () => {
    const { instance } = limiter()
    const within = Array.from({ length: 50 }, (_, i) => instance.fail(`10.1.0.${i}`))
    expect(within.filter(Boolean)).toHaveLength(10)
    expect(instance.allows('10.9.9.9')).toBe(false)
  })

  it('tracks at most `addresses` addresses, forgetting the stalest first', () => {
    const { instance } = limiter({ ...LIMIT, globalBurst: 1e9, globalPerSecond: 1e9 })
    for (let i = 0; i < 100_000; i++) instance.fail(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`)
    expect(instance.tracked).toBe(100)
    // The most recent addresses are remembered (their bucket is spent), the first ones forgotten (fresh).
    expect(instance.allows('10.1.134.159')).toBe(true)
    for (let i = 0; i < 3; i++) instance.fail('10.1.134.159')
    expect(instance.allows('10.1.134.159')).toBe(false)
    expect(instance.tracked).toBe(100)
  })

  it('a source is a suspect for `suspectMs` after it last went past its limit, not after a mere failure', () => {
    const { instance, advance } = limiter()
    for (let i = 0; i < 3; i++) instance.fail('10.0.0.1')
    expect(instance.suspect('10.0.0.1')).toBe(false)
    instance.fail('10.0.0.1')
    advance(59_999)
    expect(instance.suspect('10.0.0.1')).toBe(true)
    advance(1)
    expect(instance.suspect('10.0.0.1')).toBe(false)
  })

  it('keys IPv6 by its /64 and IPv4-mapped addresses by their IPv4 form', () => {
    expect(addressKey('2001:db8:0:1::1')).toBe('2001:db8:0:1::/64')
    expect(addressKey('2001:0db8:0000:0001:ffff:ffff:ffff:ffff')).toBe('2001:db8:0:1::/64')
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64')
    expect(addressKey('::1')).toBe('0:0:0:0::/64')
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7')
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7')
    const { instance } = limiter()
    for (let i = 0; i < 3; i++) instance.fail(`2001:db8:0:1::${i.toString(16)}`)
    expect(instance.allows('2001:db8:0:1:dead:beef:0:1')).toBe(false)
    expect(instance.allows('2001:db8:0:2::1')).toBe(true)
  })
})
