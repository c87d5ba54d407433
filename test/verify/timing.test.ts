import { createHmac, createSecretKey } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { digestsEqual, verifySignature } from '../../src/verify/verify-signature.js'

/**
 * Statistical, and built not to flake on a busy two-core machine: the two cases are timed in adjacent pairs
 * (so a noisy moment hurts both alike), each timing covers many calls, and the median of the pairs' ratios is
 * compared with a loose bound. A measurement spoiled by other processes is taken again, up to three times:
 * a real leak shows in every attempt (see the control), noise does not.
 */
function medianRatio(a: () => void, b: () => void, rounds: number, callsPerRound: number): number {
  const time = (fn: () => void) => {
    const start = process.hrtime.bigint()
    for (let i = 0; i < callsPerRound; i++) fn()
    return Number(process.hrtime.bigint() - start)
  }
  // Warm up the JIT for both.
  for (let i = 0; i < 10; i++) {
    time(a)
    time(b)
  }
  const ratios: number[] = []
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      const ta = time(a)
      ratios.push(time(b) / ta)
    } else {
      const tb = time(b)
      ratios.push(tb / time(a))
    }
  }
  return ratios.sort((x, y) => x - y)[ratios.length >> 1]!
}

/** The first of up to three measurements that `accept` takes, else the last one. */
function measure(accept: (ratio: number) => boolean, ...args: Parameters<typeof medianRatio>): number {
  let ratio = Number.NaN
  for (let attempt = 0; attempt < 3; attempt++) {
    ratio = medianRatio(...args)
    if (accept(ratio)) break
  }
  return ratio
}

const LEAKS = (ratio: number) => ratio > 1.5
const SAME = (ratio: number) => ratio > 0.8 && ratio < 1.25

const SECRET = 'timing-secret-5e1f'
const BODY = Buffer.from('not json, so that only the raw comparison runs')
const right = createHmac('sha256', SECRET).update(BODY).digest()

/** A wrong signature whose first `matching` bytes are right and whose others are all wrong. */
function wrongWithPrefix(matching: number): Buffer {
  const forged = Buffer.from(right)
  for (let i = matching; i < forged.length; i++) forged[i] = forged[i]! ^ 0xff
  return forged
}

const none = wrongWithPrefix(0)
const most = wrongWithPrefix(31)

/** What a naive check does: stop at the first differing byte. */
function leakyEqual(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

describe('constant-time signature comparison', () => {
  it('control: the method does see an early-exit comparison leak the matching prefix', () => {
    let sink = false
    const ratio = measure(
      LEAKS,
      () => (sink = leakyEqual(right, none) || sink),
      () => (sink = leakyEqual(right, most) || sink),
      60,
      20_000,
    )
    expect(sink).toBe(false)
    expect(ratio, 'time(31 right) / time(0 right)').toSatisfy(LEAKS)
  })

  it('digestsEqual takes as long for 0 as for 31 matching leading bytes', () => {
    let sink = false
    const ratio = measure(
      SAME,
      () => (sink = digestsEqual(right, none) || sink),
      () => (sink = digestsEqual(right, most) || sink),
      60,
      20_000,
    )
    expect(sink).toBe(false)
    expect(ratio, 'time(31 right) / time(0 right)').toSatisfy(SAME)
  })

  it('verifySignature refuses both in the same time, end to end', () => {
    const keys = [{ name: 'svc', secrets: [createSecretKey(Buffer.from(SECRET))] }]
    const headerNone = none.toString('hex')
    const headerMost = most.toString('hex')
    let accepted = false
    const ratio = measure(
      SAME,
      () => (accepted = verifySignature(keys, BODY, headerNone, true).ok || accepted),
      () => (accepted = verifySignature(keys, BODY, headerMost, true).ok || accepted),
      30,
      600,
    )
    expect(accepted).toBe(false)
    expect(ratio, 'time(31 right) / time(0 right)').toSatisfy(SAME)
  })
})
