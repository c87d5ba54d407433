import { describe, expect, it } from 'vitest'
import { TokenBuckets } from '../../src/admission/token-buckets.js'

describe('TokenBuckets', () => {
  it('allows a burst, then refills at its rate, never past its capacity', () => {
    const buckets = new TokenBuckets(3, 2, 10)
    expect([1, 2, 3, 4].map(() => buckets.take('a', 0))).toEqual([true, true, true, false])
    expect(buckets.take('a', 499)).toBe(false)
    expect(buckets.take('a', 500)).toBe(true)
    expect([1, 2, 3, 4].map(() => buckets.take('a', 60_000))).toEqual([true, true, true, false])
  })

  it('takes a cost only when the bucket holds it', () => {
    const buckets = new TokenBuckets(100, 0, 1)
    expect(buckets.take('*', 0, 80)).toBe(true)
    expect(buckets.take('*', 0, 30)).toBe(false)
    expect(buckets.take('*', 0, 20)).toBe(true)
  })

  it('tracks at most maxKeys, forgetting the least recently seen first', () => {
    const buckets = new TokenBuckets(1, 0, 2)
    expect(buckets.take('a', 0)).toBe(true)
    expect(buckets.take('b', 0)).toBe(true)
    expect(buckets.take('a', 0)).toBe(false)
    // c pushes out b (a was seen more recently); b comes back with a full bucket, a is still empty.
    expect(buckets.take('c', 0)).toBe(true)
    expect(buckets.size).toBe(2)
    expect(buckets.take('a', 0)).toBe(false)
    expect(buckets.take('b', 0)).toBe(true)
  })

  it('spend takes the whole cost whatever the bucket holds, down to empty, and says what is left', () => {
    const buckets = new TokenBuckets(100, 10, 1)
    expect(buckets.spend('a', 0, 30)).toBe(70)
    expect(buckets.spend('a', 0, 500)).toBe(0)
    expect(buckets.take('a', 0)).toBe(false)
    // Empty, not in debt: it refills from zero.
    expect(buckets.spend('a', 1_000, 1)).toBe(9)
  })
})
