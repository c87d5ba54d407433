// `node bench/compare.js --before OTHER/dist/cli.js`: two builds of tylt-relay measured in the same run,
// against the durable limit, for the before/after figures of a change (docs/benchmarks.md). Each round runs
// (b) of the other build, (b) of this checkout's build and the durable limit, at full load and at 2,000
// req/s offered, in that order; then each build is started `--starts` times for its footprint. Nothing is
// written to docs/; the failures `npm run bench` checks (a lost event, a server that does not start) fail it.
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { startOnce } from './lib/footprint.js'
import { relayCommand } from './lib/relay.js'
import { durableLimit, FIXED_RATE, relayEmbedded } from './lib/scenarios.js'
import { median } from './lib/stats.js'

const { values } = parseArgs({
  options: {
    before: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '6' },
    starts: { type: 'string', default: '3' },
  },
})
if (values.before === undefined || !existsSync(values.before)) {
  process.stderr.write(
    'usage: node bench/compare.js --before OTHER/dist/cli.js [--rounds 3] [--duration 6]\n',
  )
  process.exit(2)
}
const plan = { durationS: Number(values.duration), warmS: 2, forceAutocannon: false }
const builds = [
  // Absolute: the relay runs in a folder of its own.
  ['before', resolve(values.before)],
  ['after', undefined],
]
const PORT = Number(process.env.BENCH_PORT ?? 18301)

/** Runs `scenario` with BENCH_RELAY_CLI pointing at the build (undefined: this checkout's dist/). */
async function withBuild(cli, scenario) {
  if (cli === undefined) delete process.env.BENCH_RELAY_CLI
  else process.env.BENCH_RELAY_CLI = cli
  try {
    return await scenario()
  } finally {
    delete process.env.BENCH_RELAY_CLI
  }
}

/** One start of a build, measured as bench/lib/footprint.js measures every server. */
async function footprintOnce(cli) {
  const relay = { ports: [PORT, PORT + 1], command: () => relayCommand(PORT, PORT + 1) }
  const one = await withBuild(cli, () => startOnce(relay, 20_000))
  if (one.failures.length > 0) throw new Error(`the relay: ${one.failures.join('; ')}`)
  return { listenMs: one.listenMs, rss: one.earlyRss, idleRss: one.idleRss }
}

const failures = []
const runs = { before: [], after: [], limit: [], beforeRate: [], afterRate: [], limitRate: [] }
const note = (key, result) => {
  runs[key].push(result)
  failures.push(...result.failures.map((f) => `${key}: ${f}`))
  const cpu = result.cpuUsPerRequest.toFixed(0)
  process.stdout.write(
    `  ${key}: ${result.rps.toFixed(0)} req/s, p99 ${(result.p99Us / 1000).toFixed(2)} ms, ${cpu} µs CPU/req\n`,
  )
}
for (let round = 1; round <= Number(values.rounds); round++) {
  process.stdout.write(`round ${round}\n`)
  for (const [name, cli] of builds) note(name, await withBuild(cli, () => relayEmbedded(plan)))
  note('limit', await durableLimit(plan))
  for (const [name, cli] of builds)
    note(`${name}Rate`, await withBuild(cli, () => relayEmbedded(plan, { rate: FIXED_RATE })))
  note('limitRate', await durableLimit(plan, { rate: FIXED_RATE }))
}
const footprints = { before: [], after: [] }
for (let i = 0; i < Number(values.starts); i++)
  for (const [name, cli] of builds) footprints[name].push(await footprintOnce(cli))

const ratio = (key) => median(runs[key].map((r, i) => r.rps / runs.limit[i].rps)).toFixed(2)
const p99Ratio = (key) => median(runs[key].map((r, i) => r.p99Us / runs.limitRate[i].p99Us)).toFixed(2)
const list = (key, f) => runs[key].map(f).join(' / ')
const rps = (r) => Math.round(r.rps).toLocaleString('en-US')
const cpu = (r) => r.cpuUsPerRequest.toFixed(0)
const p99 = (r) => (r.p99Us / 1000).toFixed(1)
if (runs.limit.length === 0) {
  // --rounds 0: the footprint alone.
  process.stdout.write(
    '\n| build | RSS at 3 s MB | idle RSS MB | start to listen ms |\n| --- | --- | --- | --- |\n',
  )
  for (const [name] of builds) {
    const fp = footprints[name]
    const mb = (key) => median(fp.map((f) => f[key] / 2 ** 20)).toFixed(0)
    const listen = median(fp.map((f) => f.listenMs)).toFixed(0)
    process.stdout.write(`| ${name} | ${mb('rss')} | ${mb('idleRss')} | ${listen} |\n`)
  }
  process.exit(failures.length > 0 ? 1 : 0)
}
const lines = [
  '',
  `| build | req/s, per round | / limit | CPU µs/req | at ${FIXED_RATE}/s: CPU µs/req | p99 ms | p99 / limit's | RSS at 3 s MB | idle RSS MB | start to listen ms |`,
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...builds.map(([name]) => {
    const fp = footprints[name]
    return `| ${name} | ${list(name, rps)} | ${ratio(name)} | ${list(name, cpu)} | ${list(`${name}Rate`, cpu)} | ${list(`${name}Rate`, p99)} | ${p99Ratio(`${name}Rate`)} | ${median(fp.map((f) => f.rss / 2 ** 20)).toFixed(0)} | ${median(fp.map((f) => f.idleRss / 2 ** 20)).toFixed(0)} | ${median(fp.map((f) => f.listenMs)).toFixed(0)} |`
  }),
  `| durable limit | ${list('limit', rps)} | 1 | ${list('limit', cpu)} | ${list('limitRate', cpu)} | ${list('limitRate', p99)} | 1 | | | |`,
]
process.stdout.write(`${lines.join('\n')}\n`)
if (failures.length > 0) {
  process.stderr.write(`\ncompare FAILED:\n  ${failures.join('\n  ')}\n`)
  process.exitCode = 1
}
