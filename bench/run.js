// `npm run bench`: tylt-relay against a bare node:http baseline, on loopback, server on core 0 and load on
// core 1. See docs/benchmarks.md for what is measured and why; `--smoke` is the few-second CI variant,
// which fails on a server that does not start or on a lost event, and never on a timing.
import { parseArgs } from 'node:util'
import { forgedFlood } from './lib/flood-scenario.js'
import { hasWrk } from './lib/load.js'
import { hasTaskset, sleep } from './lib/proc.js'
import { printAndWrite } from './lib/report.js'
import {
  baseline,
  baselineRate,
  drain,
  durableLimit,
  fixedRate,
  forwarding,
  reference,
  relayEmbedded,
  relayPostgres,
  soak,
} from './lib/scenarios.js'

/** What each round runs, in this order; `--only` picks among these keys and `drain`, `soak`. */
const ROUND_SCENARIOS = [
  ['a', baseline],
  ['b', relayEmbedded],
  ['limit', durableLimit],
  ['c', forwarding],
  ['a-rate', baselineRate],
  ['rate', fixedRate],
  ['ref-fastify', (p) => reference(p, 'fastify')],
  ['ref-journal', (p) => reference(p, 'journal')],
  ['ref-sqlite', (p) => reference(p, 'sqlite')],
  ['pg', relayPostgres],
  ['ref-postgres', (p) => reference(p, 'postgres')],
  ['flood-named', (p) => forgedFlood(p, 'named')],
  ['flood-any', (p) => forgedFlood(p, 'any')],
]

const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    'drain-events': { type: 'string' },
    soak: { type: 'string' },
    autocannon: { type: 'boolean', default: false },
    write: { type: 'boolean' },
    // For investigating one scenario: e.g. --only drain (nothing is written to docs/benchmarks.md).
    only: { type: 'string' },
  },
})
const smoke = values.smoke
const plan = {
  smoke,
  rounds: Number(values.rounds ?? (smoke ? 1 : 3)),
  durationS: Number(values.duration ?? (smoke ? 2 : 8)),
  warmS: smoke ? 1 : 2,
  drainEvents: Number(values['drain-events'] ?? (smoke ? 2_000 : 50_000)),
  soakS: Number(values.soak ?? (smoke ? 0 : 120)),
  forceAutocannon: values.autocannon,
  write: values.only === undefined && (values.write ?? !smoke),
  only: values.only?.split(',') ?? [...ROUND_SCENARIOS.map(([key]) => key), 'drain', 'soak'],
}

async function main() {
  const generator = hasWrk && !plan.forceAutocannon ? 'wrk -t1 -c32 (bench/load.lua)' : 'autocannon -c32'
  if (!hasWrk) {
    process.stderr.write(
      'bench: wrk not found (Debian: apt-get install wrk); falling back to autocannon, which on one core may be\n' +
        '       slower than the baseline server: compare the baseline row with earlier wrk runs.\n',
    )
  }
  if (!hasTaskset)
    process.stderr.write('bench: taskset not found; server and load generator are not pinned\n')
  process.stdout.write(`bench: ${plan.rounds} round(s) of ${plan.durationS}s runs, load by ${generator}\n`)
  const rounds = []
  const failures = []
  for (let round = 1; round <= plan.rounds; round++) {
    const results = {}
    for (const [key, scenario] of ROUND_SCENARIOS.filter(([key]) => plan.only.includes(key))) {
      const result = await scenario(plan)
      results[key] = result
      failures.push(...result.failures.map((f) => `round ${round} (${key}): ${f}`))
      process.stdout.write(
        `  round ${round} ${result.label}: ${result.quiet ? floodSummary(result) : summary(result)}\n`,
      )
      await sleep(500)
    }
    rounds.push(results)
  }
  const drained = plan.only.includes('drain') ? await drain(plan) : undefined
  if (drained) {
    failures.push(...drained.failures.map((f) => `drain: ${f}`))
    process.stdout.write(`  drain: ${drained.eventsPerS.toFixed(0)} events/s\n`)
  }
  const soaked = plan.soakS > 0 && plan.only.includes('soak') ? await soak(plan) : undefined
  if (soaked) failures.push(...soaked.failures.map((f) => `soak: ${f}`))
  if (values.only === undefined) printAndWrite({ plan, generator, rounds, drained, soaked, failures })
  if (failures.length > 0) {
    process.stderr.write(`\nbench FAILED:\n  ${failures.join('\n  ')}\n`)
    process.exitCode = 1
  }
}

function summary(r) {
  const ms = (us) => (us / 1000).toFixed(2)
  return `${r.rps.toFixed(0)} req/s, p50 ${ms(r.p50Us)} ms, p99 ${ms(r.p99Us)} ms, max ${ms(r.maxUs)} ms, peak RSS ${(r.peakRss / 2 ** 20).toFixed(0)} MB, CPU ${r.cpuUsPerRequest?.toFixed(0)} µs/req`
}

function floodSummary(r) {
  const ms = (us) => (us / 1000).toFixed(2)
  const cpu = (share) => `${(share * 100).toFixed(0)}%`
  return `genuine p99 ${ms(r.quiet.p99Us)} ms alone, ${ms(r.loud.p99Us)} ms during the flood (${r.loud.ok}/${r.loud.requests} ok); relay CPU ${cpu(r.quiet.cpuShare)} / ${cpu(r.loud.cpuShare)}; forged ${r.forged.rps.toFixed(0)} req/s answered ${JSON.stringify(r.forged.answers)}`
}

main().catch((err) => {
  process.stderr.write(`bench FAILED: ${err.stack ?? err}\n`)
  process.exitCode = 1
})
