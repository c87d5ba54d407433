import { describe, expect, it } from 'vitest'
// @ts-expect-error: the bench is plain JavaScript without type declarations
import { onAgainstOff, reconcileSection } from '../../bench/lib/reconcile-report.js'

/** One measured run of (b), as bench/lib/reconcile-scenario.js returns it; `queries` only with reconcile on. */
const run = (rps: number, cpuUs: number, p99Ms: number, queries = 0) => ({
  rps,
  cpuUsPerRequest: cpuUs,
  p99Us: p99Ms * 1_000,
  durationUs: 8_000_000,
  queries,
})

type Run = ReturnType<typeof run>
const round = (off: Run, on: Run, offAgain: Run) => ({
  reconcile: { on, off, offAgain, orders: 10_000, ...onAgainstOff(off, on, offAgain) },
})

describe('the reconcile row', () => {
  it('reads on against the mean of the offs around it, and the second off against the first', () => {
    expect(onAgainstOff(run(5_000, 100, 10), run(4_400, 121, 12), run(6_000, 120, 10))).toEqual({
      ratio: 0.8,
      cpuRatio: 1.1,
      noise: 1.2,
      cpuNoise: 1.2,
    })
  })

  it('gives the ratios per round and their medians, and the queries reconcile made in each measured run', () => {
    const rounds = [
      round(run(5_000, 100, 10), run(4_500, 110, 12, 800), run(5_000, 100, 10)),
      round(run(5_000, 100, 10), run(5_100, 100, 11, 1_600), run(5_000, 100, 10)),
      round(run(4_000, 120, 10), run(3_800, 126, 14, 400), run(4_400, 120, 10)),
    ]
    const text = reconcileSection(rounds).join('\n')
    expect(text).toContain(
      '- throughput, on / off: 0.90 (per round 0.90, 1.02, 0.90); 4,500 against 5,000 req/s',
    )
    expect(text).toContain('- throughput, off again / off (the noise): 1.00 (per round 1.00, 1.00, 1.10)')
    expect(text).toContain(
      '- CPU per callback, on / off: 1.05 (per round 1.10, 1.00, 1.05); 110 against 100 µs',
    )
    expect(text).toContain(
      '- CPU per callback, off again / off (the noise): 1.00 (per round 1.00, 1.00, 1.00)',
    )
    expect(text).toContain('- p99: 12.00 against 10.00 ms')
    expect(text).toContain('during the measured runs: 800, 1,600, 400 (100, 200, 50 a second)')
  })

  it('is left out of a run that did not measure it', () => {
    expect(reconcileSection([{ b: run(5_000, 100, 10) }])).toEqual([])
  })
})
