// The results table: printed, and (full runs) written into docs/benchmarks.md between two markers, so the
// prose around it (profiling notes, what changed) survives a re-run.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { floodSection } from './flood-report.js'
import { REFERENCES } from './scenarios.js'

const DOC = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url))
const START = '<!-- bench:results:start -->'
const END = '<!-- bench:results:end -->'

const median = (values) => {
  const sorted = [...values].sort((x, y) => x - y)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
const ms = (us) => (us / 1000).toFixed(2)
const mb = (bytes) => (bytes / 2 ** 20).toFixed(0)
const int = (n) => Math.round(n).toLocaleString('en-US')

function machine() {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : ''
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown'
  return `${cpus().length} cores, ${model}, Node ${process.version}, ${process.platform} ${process.arch}`
}

function row(label, runs, baselines) {
  const ratios = baselines ? runs.map((r, i) => r.rps / baselines[i].rps) : undefined
  return [
    label,
    int(median(runs.map((r) => r.rps))),
    ratios ? median(ratios).toFixed(2) : '1',
    ms(median(runs.map((r) => r.p50Us))),
    ms(median(runs.map((r) => r.p99Us))),
    ms(Math.max(...runs.map((r) => r.maxUs))),
    mb(Math.max(...runs.map((r) => r.peakRss))),
  ]
}

function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')
}

function refusals(rounds) {
  const refused = rounds.flatMap((r) => Object.values(r)).reduce((sum, r) => sum + (r.overloaded ?? 0), 0)
  return refused > 0
    ? ['', `The overload guard refused ${int(refused)} requests with 503 (not acknowledged, so not lost).`]
    : []
}

/** (p) against the PostgreSQL reference server of the same round: what the relay keeps of what PostgreSQL allows. */
function postgresRatio(rounds) {
  if (!rounds.every((r) => r.pg && r['ref-postgres'])) return []
  const ratio = median(rounds.map((r) => r.pg.rps / r['ref-postgres'].rps))
  return [
    '',
    `(p) on PostgreSQL / PostgreSQL reference (one insert per callback): ${ratio.toFixed(2)} (median of the per-round ratios).`,
  ]
}

export function render({ plan, generator, rounds, drained, soaked, failures }) {
  const pick = (key) => rounds.map((r) => r[key])
  const a = pick('a')
  const b = row('(b) tylt-relay, embedded store', pick('b'), a)
  const c = row('(c) tylt-relay forwarding to Redis', pick('c'), a)
  const rate = row('(b) at 2,000 req/s offered', pick('rate'))
  rate[2] = '-'
  const aRate = row('(a) at 2,000 req/s offered', pick('a-rate'))
  aRate[2] = '-'
  // The reference servers (bench/reference.js), when the run measured them: what the relay's parts allow.
  const references = Object.entries(REFERENCES)
    .map(([kind, label]) => [label, pick(`ref-${kind}`)])
    .filter(([, runs]) => runs.every((r) => r !== undefined))
    .map(([label, runs]) => row(label, runs, a))
  const onPostgres = pick('pg').every((r) => r !== undefined)
    ? [row('(p) tylt-relay on PostgreSQL', pick('pg'), a)]
    : []
  const main = table(
    ['server', 'req/s (median)', 'ratio to (a)', 'p50 ms', 'p99 ms', 'max ms', 'peak RSS MB'],
    [row('(a) bare node:http, verify only', a), b, c, aRate, rate, ...onPostgres, ...references],
  )
  const perRound = table(
    ['round', '(a) req/s', '(b) req/s', '(b)/(a)', '(c) req/s', '(c)/(a)', '(b) p99 at 2,000/s ms'],
    rounds.map((r, i) => [
      i + 1,
      int(r.a.rps),
      int(r.b.rps),
      (r.b.rps / r.a.rps).toFixed(2),
      int(r.c.rps),
      (r.c.rps / r.a.rps).toFixed(2),
      ms(r.rate.p99Us),
    ]),
  )
  const bRatio = median(rounds.map((r) => r.b.rps / r.a.rps))
  const cRatio = median(rounds.map((r) => r.c.rps / r.a.rps))
  const rateP99 = median(pick('rate').map((r) => r.p99Us)) / 1000
  const baseRateP99 = median(pick('a-rate').map((r) => r.p99Us)) / 1000
  const peak = Math.max(...rounds.flatMap((r) => [r.b.peakRss, r.c.peakRss, r.rate.peakRss])) / 2 ** 20
  const delivered = rounds.every((r) => r.c.delivered === r.c.stored)
  const mark = (ok) => (ok ? 'met' : '**not met**')
  const targets = [
    `- (b) >= 0.50 of (a): ${bRatio.toFixed(2)}, ${mark(bRatio >= 0.5)}`,
    `- (b) p99 <= 5 ms at 2,000 req/s offered: ${rateP99.toFixed(2)} ms (bare baseline at the same rate: ${baseRateP99.toFixed(2)} ms), ${mark(rateP99 <= 5)}`,
    `- (c) >= 0.40 of (a) with every event delivered: ${cRatio.toFixed(2)}, ${delivered ? 'all delivered' : 'EVENTS MISSING'}, ${mark(cRatio >= 0.4 && delivered)}`,
    `- (d) drain >= 10,000 events/s: ${int(drained.eventsPerS)}, ${mark(drained.eventsPerS >= 10_000)}`,
    `- peak RSS <= 150 MB under load: ${peak.toFixed(0)} MB, ${mark(peak <= 150)}`,
    soaked
      ? `- no RSS growth over ${plan.soakS} s: median ${soaked.early.toFixed(0)} MB early, ${soaked.late.toFixed(0)} MB at the end, ${mark(!soaked.grows)}`
      : '- RSS growth: not measured (smoke run)',
  ]
  const lines = [
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine()}.`,
    '',
    `Command: \`npm run bench${plan.smoke ? ' -- --smoke' : ''}\` (${plan.rounds} rounds of a, b, c, the fixed-rate runs and the reference servers, alternating;`,
    `${plan.warmS} s warm-up and ${plan.durationS} s measured per run, a fresh server and store each time; load: ${generator};`,
    'server `taskset -c 0`, load generator and Redis `taskset -c 1`). Ratios are medians of the per-round ratios.',
    '',
    main,
    '',
    perRound,
    '',
    `(d) drain: ${int(drained.events)} events accepted while Redis was down; after it started, the first entry`,
    `arrived after ${int(drained.waitMs)} ms (the forwarder's backoff), then all were delivered in ${int(drained.drainMs)} ms:`,
    `**${int(drained.eventsPerS)} events/s**.`,
    '',
    soaked
      ? `Soak: (b) under full load for ${plan.soakS} s, ${int(soaked.rps)} req/s, p99 ${ms(soaked.p99Us)} ms; RSS every 15 s (MB): ${soaked.timeline.join(', ')}.`
      : 'Soak: skipped.',
    '',
    'Targets:',
    ...targets,
    ...postgresRatio(rounds),
    ...refusals(rounds),
    ...floodSection(rounds),
    ...(failures.length > 0 ? ['', 'Failures:', ...failures.map((f) => `- ${f}`)] : []),
  ]
  return lines.join('\n')
}

export function printAndWrite(results) {
  const text = render(results)
  process.stdout.write(`\n${text}\n`)
  if (!results.plan.write) return
  const doc = existsSync(DOC) ? readFileSync(DOC, 'utf8') : `# Benchmarks\n\n${START}\n${END}\n`
  const start = doc.indexOf(START)
  const end = doc.indexOf(END)
  const next =
    start >= 0 && end > start
      ? `${doc.slice(0, start + START.length)}\n${text}\n${doc.slice(end)}`
      : `${doc.trimEnd()}\n\n${START}\n${text}\n${END}\n`
  writeFileSync(DOC, next)
  process.stdout.write(`\nwritten to docs/benchmarks.md\n`)
}
