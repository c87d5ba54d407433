// The results: the headline ratio (tylt-relay / durable limit), the tables and the targets; printed, and (full
// runs) written into docs/benchmarks.md between two markers, so the prose around it (profiling notes, what
// changed) survives a re-run. A run with --only gets the parts it measured, and is never written.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { floodSection } from './flood-report.js'
import { reconcileSection } from './reconcile-report.js'
import { FIXED_RATE, LOW_RATE, REFERENCES } from './scenarios.js'
import { median } from './stats.js'

const DOC = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url))
const START = '<!-- bench:results:start -->'
const END = '<!-- bench:results:end -->'

const ms = (us) => (us / 1000).toFixed(2)
const mb = (bytes) => (bytes / 2 ** 20).toFixed(0)
const int = (n) => Math.round(n).toLocaleString('en-US')

/** `text` as lines of at most `width` characters, broken at spaces. */
function wrap(text, width = 110) {
  const lines = ['']
  for (const word of text.split(' ')) {
    const last = lines.length - 1
    if (lines[last] === '') lines[last] = word
    else if (lines[last].length + 1 + word.length <= width) lines[last] += ` ${word}`
    else lines.push(word)
  }
  return lines
}

function machine() {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : ''
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown'
  return `${cpus().length} cores, ${model}, Node ${process.version}, ${process.platform} ${process.arch}`
}

/** A main-table row: medians over the rounds, the ratios those of the same round's (a) and durable limit. */
function row(label, runs, { a, limit }) {
  const ratio = (to) =>
    to === runs ? '1' : to ? median(runs.map((r, i) => r.rps / to[i].rps)).toFixed(2) : '-'
  return [
    label,
    int(median(runs.map((r) => r.rps))),
    ratio(limit),
    ratio(a),
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
  if (rounds.length === 0 || !rounds.every((r) => r.pg && r['ref-postgres'])) return []
  const ratio = median(rounds.map((r) => r.pg.rps / r['ref-postgres'].rps))
  return [
    '',
    `(p) on PostgreSQL / PostgreSQL reference (one insert per callback): ${ratio.toFixed(2)} (median of the per-round ratios).`,
  ]
}

/** The per-round table: only the columns whose scenarios the run measured. */
function perRoundTable(rounds, pick) {
  const columns = [
    ['(a) req/s', ['a'], (r) => int(r.a.rps)],
    ['limit req/s', ['limit'], (r) => int(r.limit.rps)],
    ['(b) req/s', ['b'], (r) => int(r.b.rps)],
    ['(b)/limit', ['b', 'limit'], (r) => (r.b.rps / r.limit.rps).toFixed(2)],
    ['(b)/(a)', ['b', 'a'], (r) => (r.b.rps / r.a.rps).toFixed(2)],
    ['(c) req/s', ['c'], (r) => int(r.c.rps)],
    ['(c)/limit', ['c', 'limit'], (r) => (r.c.rps / r.limit.rps).toFixed(2)],
    ['(b) p99 at 2,000/s ms', ['rate'], (r) => ms(r.rate.p99Us)],
    ['limit p99 at 2,000/s ms', ['limit-rate'], (r) => ms(r['limit-rate'].p99Us)],
  ].filter(([, keys]) => keys.every((key) => pick(key) !== undefined))
  if (columns.length === 0) return []
  const rows = rounds.map((r, i) => [i + 1, ...columns.map(([, , cell]) => cell(r))])
  return ['', table(['round', ...columns.map(([head]) => head)], rows)]
}

/** "At a realistic rate": the relay and the durable limit at 200 and 2,000 req/s offered. */
function rateTable(pick) {
  const runs = [
    [`(b) tylt-relay at ${int(LOW_RATE)} req/s offered`, pick('rate-200')],
    [`durable limit at ${int(LOW_RATE)} req/s offered`, pick('limit-200')],
    [`(b) tylt-relay at ${int(FIXED_RATE)} req/s offered`, pick('rate')],
    [`durable limit at ${int(FIXED_RATE)} req/s offered`, pick('limit-rate')],
  ].filter(([, measured]) => measured !== undefined)
  if (runs.length === 0) return []
  const rows = runs.map(([label, measured]) => [
    label,
    int(median(measured.map((r) => r.rps))),
    int(median(measured.map((r) => r.cpuUsPerRequest))),
    ms(median(measured.map((r) => r.p50Us))),
    ms(median(measured.map((r) => r.p99Us))),
  ])
  return [
    '',
    'At a realistic rate: a fixed offered rate (the schedule of bench/load.lua), so the server is not saturated.',
    "CPU per callback: the server process's CPU time (user + system, all threads, /proc/<pid>/stat) over the",
    'measured run divided by the requests it answered. Medians over the rounds.',
    '',
    table(['server', 'req/s answered', 'CPU µs per callback', 'p50 ms', 'p99 ms'], rows),
  ]
}

/** "Footprint": start to listen and idle RSS, medians over the starts of each server. */
function footprintTable(footprinted) {
  const servers = footprinted?.servers.filter((s) => s.starts.length > 0) ?? []
  if (servers.length === 0) return []
  const starts = Math.max(...servers.map((s) => s.starts.length))
  const settled = servers.every((s) => s.starts.every((one) => one.idleRss !== undefined))
  const rows = servers.map((s) => [
    s.label,
    int(median(s.starts.map((one) => one.listenMs))),
    mb(median(s.starts.map((one) => one.earlyRss))),
    settled ? mb(median(s.starts.map((one) => one.idleRss))) : 'not measured',
  ])
  return [
    '',
    `Footprint (median of ${starts} start${starts === 1 ? '' : 's'} each, interleaved): start to listen is the time from the spawn until`,
    'the webhook port accepts a TCP connection (a connect every 5 ms); RSS is VmRSS 3 s later, and idle RSS 20 s',
    "later (full runs), after V8's memory reducer has run on the idle heap; no request is sent.",
    '',
    table(['server', 'start to listen ms', 'RSS at 3 s MB', 'idle RSS MB'], rows),
  ]
}

export function render({ plan, generator, rounds, footprinted, drained, soaked, failures }) {
  // The runs of `key`, one per round, or undefined when the run did not measure it.
  const pick = (key) => {
    const runs = rounds.map((r) => r[key])
    return runs.length > 0 && runs.every((r) => r !== undefined) ? runs : undefined
  }
  const perRound = (runs, to) => (runs && to ? median(runs.map((r, i) => r.rps / to[i].rps)) : undefined)
  const a = pick('a')
  const limit = pick('limit')
  const ratios = { a, limit }
  const rows = [
    ['(a) bare node:http, verify only', a],
    ['durable limit (bench/durable-limit.js)', limit],
    ['(b) tylt-relay, embedded store', pick('b')],
    ['(c) tylt-relay forwarding to Redis', pick('c')],
    ['(p) tylt-relay on PostgreSQL', pick('pg')],
    // The reference servers (bench/reference.js): what the relay's parts allow.
    ...Object.entries(REFERENCES).map(([kind, label]) => [label, pick(`ref-${kind}`)]),
  ]
    .filter(([, runs]) => runs !== undefined)
    .map(([label, runs]) => row(label, runs, ratios))
  const main =
    rows.length > 0
      ? [
          '',
          table(
            [
              'server',
              'req/s (median)',
              'ratio to limit',
              'ratio to (a)',
              'p50 ms',
              'p99 ms',
              'max ms',
              'peak RSS MB',
            ],
            rows,
          ),
        ]
      : []
  const headline = perRound(pick('b'), limit)
  const n = rounds.length
  const flags = [
    ...(plan.smoke ? ['--smoke'] : []),
    ...(plan.onlyGiven ? [`--only ${plan.only.join(',')}`] : []),
    ...(plan.before ? [`--before ${plan.before}`] : []),
  ]
  const command = `npm run bench${flags.length > 0 ? ` -- ${flags.join(' ')}` : ''}`
  const what = plan.onlyGiven
    ? 'the scenarios named by --only'
    : '(a), (b), the durable limit, (c), the fixed-rate runs, the reference servers and reconcile on / off'
  const once = [
    ...(footprinted ? ['the footprint before them'] : []),
    ...(drained ? ['the drain'] : []),
    ...(soaked ? ['the soak'] : []),
  ]
  const lines = [
    ...(headline !== undefined
      ? [`tylt-relay / durable limit: ${headline.toFixed(2)} (median of ${n} round${n === 1 ? '' : 's'})`, '']
      : []),
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine()}.`,
    '',
    ...wrap(
      `Command: \`${command}\` (${n} round${n === 1 ? '' : 's'} of ${what}, alternating; ${once.length > 0 ? `once: ${once.join(', ')}; ` : ''}${plan.warmS} s warm-up and ${plan.durationS} s measured per run, a fresh server and store each time; load: ${generator}; server \`taskset -c 0\`, load generator and Redis \`taskset -c 1\`). Ratios are medians of the per-round ratios.`,
    ),
    ...main,
    ...perRoundTable(rounds, pick),
    ...rateTable(pick),
    ...footprintTable(footprinted),
    ...(drained
      ? [
          '',
          `(d) drain: ${int(drained.events)} events accepted while Redis was down; after it started, the first entry`,
          `arrived after ${int(drained.waitMs)} ms (the forwarder's backoff), then all were delivered in ${int(drained.drainMs)} ms:`,
          `**${int(drained.eventsPerS)} events/s**.`,
        ]
      : []),
    ...(soaked
      ? [
          '',
          `Soak: (b) under full load for ${plan.soakS} s, ${int(soaked.rps)} req/s, p99 ${ms(soaked.p99Us)} ms; RSS every 15 s (MB): ${soaked.timeline.join(', ')}.`,
        ]
      : plan.only.includes('soak')
        ? ['', 'Soak: skipped.']
        : []),
    '',
    'Targets:',
    ...targets({ plan, pick, headline, footprinted }),
    '',
    'Also measured (no target):',
    ...informational({ plan, pick, drained, soaked }),
    ...postgresRatio(rounds),
    ...reconcileSection(rounds),
    ...refusals(rounds),
    ...(rounds.length > 0 ? floodSection(rounds) : []),
    ...(failures.length > 0 ? ['', 'Failures:', ...failures.map((f) => `- ${f}`)] : []),
  ]
  return lines.join('\n')
}

const mark = (ok) => (ok ? 'met' : '**not met**')

/** The speed targets, each met or not; none of them ever fails the run. */
function targets({ pick, headline, footprinted }) {
  const lines = []
  lines.push(
    headline !== undefined
      ? `- tylt-relay / durable limit >= 0.90: ${headline.toFixed(2)}, ${mark(headline >= 0.9)}`
      : '- tylt-relay / durable limit >= 0.90: not measured',
  )
  const idle = (key) => {
    const starts = footprinted?.servers.find((s) => s.key === key)?.starts ?? []
    const settled = starts.filter((one) => one.idleRss !== undefined)
    return settled.length > 0 ? median(settled.map((one) => one.idleRss)) / 2 ** 20 : undefined
  }
  const relayIdle = idle('b')
  const limitIdle = idle('limit')
  lines.push(
    relayIdle !== undefined
      ? `- tylt-relay idle RSS <= 64 MB: ${relayIdle.toFixed(0)} MB${limitIdle !== undefined ? ` (durable limit: ${limitIdle.toFixed(0)} MB)` : ''}, ${mark(relayIdle <= 64)}`
      : '- tylt-relay idle RSS <= 64 MB: not measured (smoke run: RSS at 3 s only)',
  )
  const relayRate = pick('rate')
  const limitRate = pick('limit-rate')
  if (relayRate && limitRate) {
    const p99 = (runs) => median(runs.map((r) => r.p99Us)) / 1000
    const ratio = median(relayRate.map((r, i) => r.p99Us / limitRate[i].p99Us))
    lines.push(
      `- tylt-relay p99 at 2,000 req/s offered <= 1.5x the durable limit's: ${p99(relayRate).toFixed(2)} ms against ${p99(limitRate).toFixed(2)} ms, ${ratio.toFixed(2)}x (median of the per-round ratios), ${mark(ratio <= 1.5)}`,
    )
  } else lines.push("- tylt-relay p99 at 2,000 req/s offered <= 1.5x the durable limit's: not measured")
  lines.push(cpuBoundTarget(pick('cpu-bound')))
  return lines
}

/** cpu-bound: (b) over the durable limit of the same round, both stores on tmpfs. */
function cpuBoundTarget(runs) {
  const target = '- cpu-bound: tylt-relay / durable limit, both stores on tmpfs, >= 0.80'
  const measured = runs?.filter((r) => r.ratio !== undefined) ?? []
  if (measured.length === 0)
    return `${target}: not measured${runs?.[0]?.skipped ? ` (${runs[0].skipped})` : ''}`
  const ratio = median(measured.map((r) => r.ratio))
  const cpuRatio = median(measured.map((r) => r.cpuRatio))
  const us = (list) => int(median(list.map((r) => r.cpuUsPerRequest)))
  const rounds = measured.map((r) => r.ratio.toFixed(2)).join(', ')
  return `${target}: ${ratio.toFixed(2)} (per round ${rounds}; ${int(median(measured.map((r) => r.rps)))} against ${int(median(measured.map((r) => r.limit.rps)))} req/s), ${mark(ratio >= 0.8)}; in CPU per callback ${cpuRatio.toFixed(2)} (${us(measured.map((r) => r.limit))} µs for the limit, ${us(measured)} µs for the relay)`
}

/** What the run also reports, without a target: delivery, drain rate, memory under load and over the soak. */
function informational({ plan, pick, drained, soaked }) {
  const lines = []
  const c = pick('c')
  if (c) {
    const missing = c.map((r, i) => (r.delivered === r.stored ? undefined : i + 1)).filter(Boolean)
    lines.push(
      `- (c) every stored event delivered to Redis: ${missing.length === 0 ? 'all delivered' : `EVENTS MISSING in round ${missing.join(', ')}`}`,
    )
  }
  if (drained) lines.push(`- (d) drain: ${int(drained.eventsPerS)} events/s`)
  const loaded = ['b', 'c', 'rate', 'rate-200'].flatMap((key) => pick(key) ?? [])
  if (loaded.length > 0)
    lines.push(
      `- tylt-relay peak RSS under load ((b), (c) and the fixed-rate runs): ${mb(Math.max(...loaded.map((r) => r.peakRss)))} MB`,
    )
  if (soaked)
    lines.push(
      `- RSS over a ${plan.soakS} s soak: median ${soaked.early.toFixed(0)} MB early, ${soaked.late.toFixed(0)} MB at the end, ${soaked.grows ? '**grows**' : 'levels off'}`,
    )
  else if (plan.only.includes('soak')) lines.push('- RSS over a soak: not measured (no soak in this run)')
  return lines.length > 0 ? lines : ['- nothing else in this run']
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
