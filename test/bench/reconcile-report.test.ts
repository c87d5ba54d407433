import { describe, expect, it } from 'vitest'
// @ts-expect-error: the bench is plain JavaScript without type declarations
import { reconcileSection } from '../../bench/lib/reconcile-report.js'

/** One measured run of (b), as bench/lib/reconcile-scenario.js returns it; `queries` only with reconcile on. */
const run = (rps: number, cpuUs: number, p99Ms: number, queries = 0) => ({
  rps,
  cpuUsPerRequest: cpuUs,
  p99Us: p99Ms * 1_000,
  durationUs: 8_000_000,
  queries,
})

const round = (first: string, off: ReturnType<typeof run>, on: ReturnType<typeof run>) => ({
  reconcile: {
    on,
    off,
    first,
    orders: 10_000,
    ratio: on.rps / off.rps,
    cpuRatio: on.cpuUsPerRequest / off.cpuUsPerRequest,
  },
})

describe('the reconcile row', () => {
  it('gives on / off per round and their medians, and the queries reconcile made in each measured run', () => {
    const rounds = [
      round('off', run(5_000, 100, 10), run(4_500, 110, 12, 800)),
      round('on', run(5_000, 100, 10), run(5_100, 100, 11, 1_600)),
      round('off', run(4_000, 120, 10), run(3_800, 126, 14, 400)),
    ]
    const text = reconcileSection(rounds).join('\n')
    expect(text).toContain('- throughput: 0.95 (per round 0.90, 1.02, 0.95); 4,500 against 5,000 req/s')
    expect(text).toContain('- CPU per callback: 1.05 (per round 1.10, 1.00, 1.05); 110 against 100 µs')
    expect(text).toContain('- p99: 12.00 against 10.00 ms')
    expect(text).toContain('during the measured runs: 800, 1,600, 400 (100, 200, 50 a second)')
    expect(text).toContain('first in each round: off, on, off')
  })

  it('is left out of a run that did not measure it', () => {
    expect(reconcileSection([{ b: run(5_000, 100, 10) }])).toEqual([])
  })
})
