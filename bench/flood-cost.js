// `node bench/flood-cost.js [--before OTHER/dist/cli.js] [--rounds 2] [--duration 6] [--bytes 1024,262144]`:
// what a forged flood alone costs the relay's core, with no genuine load beside it. For each round, build
// and forged-body size: a fresh relay configured as for the "genuine callbacks during a forged flood" rows
// (bench/lib/flood-scenario.js), its CPU share idle for 2 s, then the flood generator of those rows started;
// once its first 3 s are over (the source has spent its budget and is penalised), the relay's CPU share over
// `--duration` seconds and the forged rate. The CPU share is the relay's CPU time (user + system, every
// thread) over the wall time, the relay alone on core 0. With `--before`, the other build runs first in
// each round. Prints a table; writes nothing to docs/.
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { attacker, services } from './lib/flood-scenario.js'
import { cpuTimeUs, removeFolder, sleep } from './lib/proc.js'
import { startRelay } from './lib/relay.js'

const { values } = parseArgs({
  options: {
    before: { type: 'string' },
    rounds: { type: 'string', default: '2' },
    duration: { type: 'string', default: '6' },
    bytes: { type: 'string', default: '1024,262144' },
  },
})
if (values.before !== undefined && !existsSync(values.before)) {
  process.stderr.write(
    'usage: node bench/flood-cost.js [--before OTHER/dist/cli.js] [--rounds 2] [--duration 6] [--bytes 1024,262144]\n',
  )
  process.exit(2)
}
const PORT = Number(process.env.BENCH_PORT ?? 18301)
const sizes = values.bytes.split(',').map(Number)
const builds =
  values.before === undefined
    ? [['this build', undefined]]
    : [
        ['before', resolve(values.before)],
        ['after', undefined],
      ]

/** The relay's CPU share over `ms` milliseconds from now. */
async function cpuShare(pid, ms) {
  const cpuAt = cpuTimeUs(pid)
  const startedAt = performance.now()
  await sleep(ms)
  return (cpuTimeUs(pid) - cpuAt) / ((performance.now() - startedAt) * 1000)
}

async function once(cli, bytes) {
  if (cli === undefined) delete process.env.BENCH_RELAY_CLI
  else process.env.BENCH_RELAY_CLI = cli
  const server = await startRelay(PORT, PORT + 1, { env: services() })
  const pid = server.child.pid
  await sleep(1_000)
  const idle = await cpuShare(pid, 2_000)
  const flood = await attacker(server.url, bytes)
  flood.go()
  await sleep(3_000)
  await flood.mark()
  const share = await cpuShare(pid, Number(values.duration) * 1000)
  const forged = await flood.stop()
  const exit = await server.stop()
  removeFolder(server.dir)
  if (exit !== 0) throw new Error(`the relay exited with ${exit} on SIGTERM`)
  return { idle, share, forged }
}

const pct = (share) => `${(share * 100).toFixed(1)}%`
const rows = []
for (let round = 1; round <= Number(values.rounds); round++)
  for (const bytes of sizes)
    for (const [label, cli] of builds) {
      const { idle, share, forged } = await once(cli, bytes)
      const answers = Object.entries(forged.answers)
        .map(([key, n]) => `${key}: ${n}`)
        .join(', ')
      const row = [round, label, `${bytes} B`, pct(idle), pct(share), forged.rps.toFixed(0), answers]
      process.stdout.write(`  ${row.join('  ')}\n`)
      rows.push(row)
    }
const line = (cells) => `| ${cells.join(' | ')} |`
const header = [
  'round',
  'build',
  'forged body',
  'relay CPU idle',
  'relay CPU, flood alone',
  'forged req/s',
  'forged answers',
]
process.stdout.write(`\n${[line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')}\n`)
