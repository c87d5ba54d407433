import { describe, expect, it } from 'vitest'
// @ts-expect-error: the bench is plain JavaScript without type declarations
import { render } from '../../bench/lib/report.js'

/** One measured run, as bench/lib/scenarios.js returns it. */
const run = (rps: number, p99Ms: number, cpuUs: number) => ({
  rps,
  ok: rps * 8,
  p50Us: 1_000,
  p99Us: p99Ms * 1_000,
  maxUs: p99Ms * 2_000,
  peakRss: 100 * 2 ** 20,
  cpuUsPerRequest: cpuUs,
  failures: [],
})

const start = (listenMs: number, earlyMb: number, idleMb: number | undefined) => ({
  listenMs,
  earlyRss: earlyMb * 2 ** 20,
  idleRss: idleMb === undefined ? undefined : idleMb * 2 ** 20,
})

function report(idleMb: number | undefined, relayRps: number) {
  const round = {
    b: run(relayRps, 9, 120),
    limit: run(8_000, 10, 110),
    rate: run(2_000, 9, 320),
    'limit-rate': run(2_000, 10, 220),
    'rate-200': run(200, 5, 1_100),
    'limit-200': run(200, 4, 700),
  }
  const servers = [
    { key: 'b', label: '(b) tylt-relay, embedded store', starts: [start(470, 66, idleMb)] },
    { key: 'limit', label: 'durable limit', starts: [start(80, 52, idleMb === undefined ? undefined : 50)] },
  ]
  return render({
    plan: { smoke: idleMb === undefined, only: Object.keys(round), warmS: 1, durationS: 2, rounds: 1 },
    generator: 'wrk',
    rounds: [round],
    footprinted: { servers, failures: [] },
    failures: [],
  }) as string
}

describe('the bench report', () => {
  it('heads with the relay / durable limit ratio and gives idle RSS, start to listen, CPU per callback and both p99s', () => {
    const text = report(60, 8_800)
    expect(text.split('\n')[0]).toBe('tylt-relay / durable limit: 1.10 (median of 1 round)')
    expect(text).toContain('| (b) tylt-relay, embedded store | 470 | 66 | 60 |')
    expect(text).toContain('| (b) tylt-relay at 200 req/s offered | 200 | 1,100 | 1.00 | 5.00 |')
    expect(text).toContain('| durable limit at 2,000 req/s offered | 2,000 | 220 | 1.00 | 10.00 |')
    expect(text).toContain('- tylt-relay / durable limit >= 0.90: 1.10, met')
    expect(text).toContain('- tylt-relay idle RSS <= 64 MB: 60 MB (durable limit: 50 MB), met')
    expect(text).toContain(
      "- tylt-relay p99 at 2,000 req/s offered <= 1.5x the durable limit's: 9.00 ms against 10.00 ms, 0.90x",
    )
  })

  it('marks missed targets without making them failures: a timing never fails a run, the smoke run included', () => {
    const text = report(undefined, 4_000)
    expect(text).toContain('- tylt-relay / durable limit >= 0.90: 0.50, **not met**')
    expect(text).toContain('- tylt-relay idle RSS <= 64 MB: not measured (smoke run: RSS at 3 s only)')
    expect(text).not.toContain('Failures:')
  })

  it('gives the cpu-bound row as the relay over the limit, in throughput against 0.80 and in CPU per callback', () => {
    const cpuBound = (relayRps: number, relayCpuUs: number) => {
      const relay = run(relayRps, 9, relayCpuUs)
      const limit = run(8_000, 10, 80)
      return { ...relay, limit, ratio: relay.rps / limit.rps, cpuRatio: 80 / relayCpuUs }
    }
    const text = render({
      plan: { smoke: false, only: ['cpu-bound'], warmS: 1, durationS: 2, rounds: 3 },
      generator: 'wrk',
      rounds: [
        [6_000, 100],
        [7_200, 90],
        [4_000, 160],
      ].map(([rps, us]) => ({ 'cpu-bound': cpuBound(rps!, us!) })),
      failures: [],
    }) as string
    expect(text).toContain(
      '- cpu-bound: tylt-relay / durable limit, both stores on tmpfs, >= 0.80: 0.75 (per round 0.75, 0.90, 0.50; 6,000 against 8,000 req/s), **not met**; in CPU per callback 0.80 (80 µs for the limit, 100 µs for the relay)',
    )
    expect(report(60, 8_800)).toContain(
      '- cpu-bound: tylt-relay / durable limit, both stores on tmpfs, >= 0.80: not measured',
    )
  })
})
