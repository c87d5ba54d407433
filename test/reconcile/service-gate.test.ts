import { describe, expect, it } from 'vitest'
import { CIRCUIT_FAILURES, ServiceGate } from '../../src/reconcile/service-gate.js'

/** A clock that only moves when someone sleeps, and the times each request went out. */
function fakeClock() {
  let t = 1_000_000
  const slept: number[] = []
  return {
    now: () => t,
    sleep: async (ms: number) => {
      slept.push(ms)
      t += ms
    },
    slept,
  }
}

describe('ServiceGate', () => {
  it('spaces requests at the rate, also for callers that share it', async () => {
    const gate = new ServiceGate(20)
    const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
    const sent: number[] = []
    const start = Date.now()
    await Promise.all(
      [1, 2, 3, 4].map(async () => {
        await gate.turn(Date.now, sleep)
        sent.push(Date.now())
      }),
    )
    sent.sort((a, b) => a - b)
    // At 20 a second the k-th request goes out no sooner than k * 50 ms after the first slot, which is no
    // sooner than the start, however late a timer fires or early it fires (it counts from the event loop's
    // cached time).
    const offsets = sent.map((at) => at - start)
    expect(
      offsets.every((offset, k) => offset >= k * 50),
      String(offsets),
    ).toBe(true)
  })

  it('sends nothing before a pause ends, and never waits without sleeping', async () => {
    const clock = fakeClock()
    const gate = new ServiceGate(100)
    gate.pause(clock.now() + 3_000)
    await gate.turn(clock.now, clock.sleep)
    expect(clock.now()).toBeGreaterThanOrEqual(1_003_000)
    expect(clock.slept).toEqual([3_000])
  })

  it('opens the circuit after consecutive failures only', () => {
    const gate = new ServiceGate(1)
    for (let i = 1; i < CIRCUIT_FAILURES; i++) expect(gate.failed(0)).toBe(false)
    gate.succeeded()
    for (let i = 1; i < CIRCUIT_FAILURES; i++) expect(gate.failed(0)).toBe(false)
    expect(gate.failed(0)).toBe(true)
    expect(gate.isOpen(1)).toBe(true)
  })
})
