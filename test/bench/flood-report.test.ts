import { describe, expect, it } from 'vitest'
// @ts-expect-error: the bench is plain JavaScript without type declarations
import { floodSection } from '../../bench/lib/flood-report.js'
// @ts-expect-error: the bench is plain JavaScript without type declarations
import { pooledPercentile } from '../../bench/lib/stats.js'

/** One flood of one round, as bench/lib/flood-scenario.js returns it: p99s in ms, full-load rates in req/s. */
function flood(bytes: number, p99: [number, number], rps: [number, number], control = false) {
  const phase = (p99Ms: number, rate: number) => ({
    p99Us: p99Ms * 1_000,
    rps: rate,
    ok: 100,
    requests: 100,
    cpuShare: 0.3,
  })
  return {
    bytes,
    control,
    pairs: 4,
    quiet: phase(p99[0], 200),
    loud: phase(p99[1], 200),
    quietFull: phase(1, rps[0]),
    loudFull: phase(1, rps[1]),
    forged: { requests: 1_000, answers: control ? {} : { held: 1_000 } },
    forgedAtRate: { rps: control ? 0 : 300 },
    forgedAtFull: { rps: control ? 0 : 300 },
    quarantine: { peak: 1_024 },
  }
}

const round = (floods: ReturnType<typeof flood>[], control?: ReturnType<typeof flood>) => ({
  'flood-named': { route: 'named', floods },
  ...(control ? { 'flood-control': { route: 'named', floods: [control] } } : {}),
})

describe('the forged-flood table', () => {
  it('prints each row’s ratios per round and its median over the rounds, as figures', () => {
    const rounds = [
      round([flood(1_024, [4, 6], [1_000, 850])], flood(0, [4, 9], [1_000, 700], true)),
      round([flood(1_024, [4, 7], [1_000, 950])], flood(0, [4, 4], [1_000, 1_000], true)),
      round([flood(1_024, [4, 9], [1_000, 970])], flood(0, [4, 4], [1_000, 1_000], true)),
    ]
    const text = floodSection(rounds).join('\n')
    expect(text).toContain('| 1.50, 1.75, 2.25 |')
    expect(text).toContain('| 0.85, 0.95, 0.97 |')
    expect(text).toContain(
      "- genuine throughput during the flood / alone, each row's median over the rounds: 0.95",
    )
    expect(text).toContain("- genuine p99 during the flood / alone, each row's median over the rounds: 1.75")
    expect(text).toContain('| `/webhooks/:service` | none (control) |')
    expect(text).toContain(
      '- the control, the same slices with no flood: p99 ratios 2.25, 1.00, 1.00; throughput ratios 0.70, 1.00, 1.00',
    )
  })

  it('judges the flood rows on nothing: a row far from alone is printed, never marked', () => {
    const rounds = [
      round([flood(1_024, [4, 5], [1_000, 990]), flood(262_144, [4, 9], [1_000, 500])]),
      round([flood(1_024, [4, 5], [1_000, 990]), flood(262_144, [4, 40], [1_000, 300])]),
    ]
    const text = floodSection(rounds).join('\n')
    expect(text).toContain("each row's median over the rounds: 0.99, 0.40")
    expect(text).toContain("each row's median over the rounds: 1.25, 6.13")
    expect(text).not.toContain('not met')
  })

  it('prints nothing when no round measured a flood', () => {
    expect(floodSection([{}, {}])).toEqual([])
  })
})

describe('the p99 of slices pooled', () => {
  it("ranks every callback of every slice together, as wrk ranks one run's", () => {
    // 99 fast and one slow in the first slice, 100 at 2 ms in the second. Alone, the first slice's p99 (its
    // 100th of 100) is 50 ms; pooled, the 199th of 200 is 2 ms.
    const slices = [
      [
        [1_000, 99],
        [50_000, 1],
      ],
      [[2_000, 100]],
    ]
    expect(pooledPercentile(slices, 99)).toBe(2_000)
    expect(pooledPercentile(slices, 100)).toBe(50_000)
    expect(pooledPercentile([slices[0]!], 99)).toBe(50_000)
    expect(pooledPercentile([[[1_000, 199]], [[50_000, 1]]], 99)).toBe(1_000)
    expect(pooledPercentile([], 99)).toBe(0)
  })
})
