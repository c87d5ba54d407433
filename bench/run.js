// `npm run bench`: tylt-relay against the durable limit (bench/durable-limit.js), a bare node:http baseline
// and reference servers, on loopback, server on core 0 and load on core 1: at full load, at fixed offered
// rates, and (once per run) their footprint. See docs/benchmarks.md for what is measured and why; `--smoke`
// is the short CI variant, which fails on a server that does not start, a lost event or a wrong answer, and
// never on a timing.
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { forgedFlood } from './lib/flood-scenario.js'
import { footprint } from './lib/footprint.js'
import { hasWrk } from './lib/load.js'
import { hasTaskset, sleep } from './lib/proc.js'
import { reconcileOnOff } from './lib/reconcile-scenario.js'
import { printAndWrite } from './lib/report.js'
import {
  baseline,
  cpuBound,
  drain,
  durableLimit,
  fixedRate,
  forwarding,
  limitLowRate,
  limitRate,
  lowRate,
  reference,
  relayEmbedded,
  relayPostgres,
  soak,
} from './lib/scenarios.js'

/**
 * What each round runs, in this order; `--only` picks among these keys and `footprint` (once, before the
 * rounds), `drain`, `soak` (once, after them). `limit` is the durable limit (bench/durable-limit.js) at full
 * load; `rate` / `limit-rate` are (b) and the limit at 2,000 req/s offered, `rate-200` / `limit-200` at 200.
 * `cpu-bound` runs the limit and (b) with their stores on tmpfs. `flood-control` is the forged-flood scenario with no flood at all: the noise its ratios are judged against.
 * `reconcile` runs (b) with reconcile off and on, with open orders due (bench/lib/reconcile-scenario.js).
 */
const ROUND_SCENARIOS = [
  ['a', baseline],
  ['b', relayEmbedded],
  ['limit', durableLimit],
  ['c', forwarding],
  ['rate', fixedRate],
  ['limit-rate', limitRate],
  ['rate-200', lowRate],
  ['limit-200', limitLowRate],
  ['cpu-bound', cpuBound],
  ['ref-fastify', (p) => reference(p, 'fastify')],
  ['ref-journal', (p) => reference(p, 'journal')],
  ['ref-sqlite', (p) => reference(p, 'sqlite')],
  ['pg', relayPostgres],
  ['ref-postgres', (p) => reference(p, 'postgres')],
  ['flood-named', (p) => forgedFlood(p, 'named')],
  ['flood-any', (p) => forgedFlood(p, 'any')],
  ['flood-control', (p) => forgedFlood(p, 'named', { control: true })],
  ['reconcile', reconcileOnOff],
]

/** Accepts `--write false`, `--write=false` (and `true`) besides the bare `--write` and `--no-write`. */
function normalizeArgs(args) {
  const out = []
  for (let i = 0; i < args.length; i++) {
    const match = /^--write(?:=(true|false))?$/.exec(args[i])
    if (!match) {
      out.push(args[i])
      continue
    }
    let value = match[1]
    if (value === undefined && /^(true|false)$/.test(args[i + 1] ?? '')) value = args[++i]
    out.push(value === 'false' ? '--no-write' : '--write')
  }
  return out
}

const { values } = parseArgs({
  args: normalizeArgs(process.argv.slice(2)),
  options: {
    smoke: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    'drain-events': { type: 'string' },
    soak: { type: 'string' },
    autocannon: { type: 'boolean', default: false },
    write: { type: 'boolean' },
    'no-write': { type: 'boolean', default: false },
    // For investigating single scenarios: e.g. --only limit,b or --only footprint (the keys above and
    // footprint, drain, soak). The report shows what was measured and is never written to docs/benchmarks.md.
    only: { type: 'string' },
    // Another build's dist/cli.js for the flood rows only: each row runs on it ("before"), then on this
    // checkout's ("after"), in every round; one table with a build column, never written.
    before: { type: 'string' },
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
  footprintStarts: smoke ? 1 : 3,
  // RSS is read 3 s after the start, and in full runs again once idle (20 s); see bench/lib/footprint.js.
  footprintIdleMs: smoke ? 3_000 : 20_000,
  onlyGiven: values.only !== undefined,
  before: values.before,
  builds:
    values.before === undefined
      ? undefined
      : [
          // Absolute: the relay runs in a folder of its own.
          ['before', resolve(values.before)],
          ['after', undefined],
        ],
  write: values.only === undefined && !values['no-write'] && (values.write ?? !smoke),
  only: values.only?.split(',') ?? ['footprint', ...ROUND_SCENARIOS.map(([key]) => key), 'drain', 'soak'],
}
const KNOWN = new Set(['footprint', ...ROUND_SCENARIOS.map(([key]) => key), 'drain', 'soak'])
const unknown = plan.only.filter((key) => !KNOWN.has(key))
if (unknown.length > 0) {
  process.stderr.write(
    `bench: unknown --only key(s) ${unknown.join(', ')}; known: ${[...KNOWN].join(', ')}\n`,
  )
  process.exit(2)
}
const FLOOD_KEYS = ['flood-named', 'flood-any', 'flood-control']
if (
  plan.before !== undefined &&
  (!existsSync(plan.before) || !plan.onlyGiven || plan.only.some((key) => !FLOOD_KEYS.includes(key)))
) {
  process.stderr.write(
    `bench: --before OTHER/dist/cli.js needs an existing file and --only among ${FLOOD_KEYS.join(', ')}\n`,
  )
  process.exit(2)
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
  const failures = []
  const footprinted = plan.only.includes('footprint')
    ? await footprint(plan, (server, one) =>
        process.stdout.write(`  footprint ${server.label}: ${footprintSummary(one)}\n`),
      )
    : undefined
  if (footprinted) failures.push(...footprinted.failures.map((f) => `footprint: ${f}`))
  const rounds = []
  const selected = ROUND_SCENARIOS.filter(([key]) => plan.only.includes(key))
  for (let round = 1; selected.length > 0 && round <= plan.rounds; round++) {
    const results = {}
    for (const [key, scenario] of selected) {
      const result = await scenario(plan, round)
      results[key] = result
      failures.push(...result.failures.map((f) => `round ${round} (${key}): ${f}`))
      process.stdout.write(
        `  round ${round} ${result.label}: ${result.floods ? floodSummary(result) : result.limit ? cpuBoundSummary(result) : result.on ? reconcileSummary(result) : (result.skipped ?? summary(result))}\n`,
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
  // With --only the report shows what was measured and is never written.
  printAndWrite({ plan, generator, rounds, footprinted, drained, soaked, failures })
  if (failures.length > 0) {
    process.stderr.write(`\nbench FAILED:\n  ${failures.join('\n  ')}\n`)
    process.exitCode = 1
  }
}

function summary(r) {
  const ms = (us) => (us / 1000).toFixed(2)
  return `${r.rps.toFixed(0)} req/s, p50 ${ms(r.p50Us)} ms, p99 ${ms(r.p99Us)} ms, max ${ms(r.maxUs)} ms, peak RSS ${(r.peakRss / 2 ** 20).toFixed(0)} MB, CPU ${r.cpuUsPerRequest?.toFixed(0)} µs/req`
}

function cpuBoundSummary(r) {
  return `${r.ratio.toFixed(2)} in throughput, ${r.cpuRatio.toFixed(2)} in CPU per callback\n    (b): ${summary(r)}\n    durable limit: ${summary(r.limit)}`
}

function reconcileSummary(r) {
  const int = (n) => Math.round(n ?? 0).toLocaleString('en-US')
  const { on, off, offAgain } = r
  return (
    `${r.ratio.toFixed(2)} in throughput, ${r.cpuRatio.toFixed(2)} in CPU per callback (on / mean of the offs); off again / off ${r.noise.toFixed(2)} and ${r.cpuNoise.toFixed(2)}` +
    `\n    off: ${summary(off)}\n    on:  ${summary(on)}\n    off: ${summary(offAgain)}` +
    `\n    reconcile: ${int(on.queries)} queries answered by the Tylt stand-in during the measured run (${int(on.relayQueries)} ok in the relay's metrics), ${int(on.asked)} in all; ` +
    `ledger at the stop: ${int(on.ledger.orders)} orders from ${int(on.ledger.stored)} events stored, ${int(on.ledger.checked)} checked, ${int(on.ledger.due)} of the ${int(r.orders)} open ones still due`
  )
}

function footprintSummary(one) {
  if (one.listenMs === undefined) return one.failures.join('; ')
  return `start to listen ${one.listenMs.toFixed(0)} ms, idle RSS ${(one.idleRss / 2 ** 20).toFixed(0)} MB`
}

function floodSummary(r) {
  const ms = (us) => (us / 1000).toFixed(2)
  const cpu = (share) => `${(share * 100).toFixed(0)}%`
  const kib = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`
  const slices = (phase, value) => phase.slices.map(value).join(' ')
  const line = (f) =>
    `\n    ${f.build ? `${f.build}, ` : ''}${f.control ? 'no flood' : `${f.bytes}-byte forgeries`}: genuine p99 ${ms(f.quiet.p99Us)} ms alone, ${ms(f.loud.p99Us)} ms during the flood (${f.loud.ok}/${f.loud.requests} ok); ` +
    `full load ${f.quietFull.rps.toFixed(0)} / ${f.loudFull.rps.toFixed(0)} req/s (${f.loudFull.ok}/${f.loudFull.requests} ok); relay CPU ${cpu(f.quiet.cpuShare)} / ${cpu(f.loud.cpuShare)}; ` +
    `forged ${f.forged.requests} sent (${f.forgedAtRate.rps.toFixed(0)} req/s ${JSON.stringify(f.forgedAtRate.answers)}, then ${f.forgedAtFull.rps.toFixed(0)} req/s ${JSON.stringify(f.forgedAtFull.answers)}); quarantine ${kib(f.quarantine.peak)} (${f.quarantine.requests} kept, ${kib(f.quarantine.diskBytes)} on disk); ` +
    `slices, alone | flood: p99 ms ${slices(f.quiet, (s) => ms(s.p99Us))} | ${slices(f.loud, (s) => ms(s.p99Us))}, ` +
    `req/s ${slices(f.quietFull, (s) => s.rps.toFixed(0))} | ${slices(f.loudFull, (s) => s.rps.toFixed(0))}`
  return r.floods.map(line).join('')
}

main().catch((err) => {
  process.stderr.write(`bench FAILED: ${err.stack ?? err}\n`)
  process.exitCode = 1
})
