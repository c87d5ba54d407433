// The "genuine callbacks during a forged flood" table of the results, when the run measured it.
import { FLOOD } from './flood-scenario.js'

const median = (values) => {
  const sorted = [...values].sort((x, y) => x - y)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
const ms = (us) => (us / 1000).toFixed(2)
const int = (n) => Math.round(n).toLocaleString('en-US')
const pct = (share) => `${Math.round(share * 100)}%`
const sum = (values) => values.reduce((a, b) => a + b, 0)

function row(runs) {
  const answers = {}
  for (const r of runs)
    for (const [key, n] of Object.entries(r.forged.answers)) answers[key] = (answers[key] ?? 0) + n
  const ratio = median(runs.map((r) => r.loud.p99Us / r.quiet.p99Us))
  return [
    runs[0].route === 'named' ? '`/webhooks/:service`' : '`POST /webhooks`, 20 services x 2 keys',
    `${sum(runs.map((r) => r.quiet.ok))} / ${sum(runs.map((r) => r.quiet.requests))}`,
    `${sum(runs.map((r) => r.loud.ok))} / ${sum(runs.map((r) => r.loud.requests))}`,
    `${ms(median(runs.map((r) => r.quiet.p50Us)))} / ${ms(median(runs.map((r) => r.loud.p50Us)))}`,
    `${ms(median(runs.map((r) => r.quiet.p99Us)))} / ${ms(median(runs.map((r) => r.loud.p99Us)))}`,
    ratio.toFixed(2),
    `${int(median(runs.map((r) => r.quiet.rps)))} / ${int(median(runs.map((r) => r.loud.rps)))}`,
    `${pct(median(runs.map((r) => r.quiet.cpuShare)))} / ${pct(median(runs.map((r) => r.loud.cpuShare)))}`,
    int(median(runs.map((r) => r.forged.rps))),
    Object.entries(answers)
      .map(([key, n]) => `${key}: ${int(n)}`)
      .join(', '),
  ]
}

/** Lines for docs/benchmarks.md, or none when the rounds did not measure the flood. */
export function floodSection(rounds) {
  const routes = ['flood-named', 'flood-any']
    .map((key) => rounds.map((r) => r[key]))
    .filter((runs) => runs.every((r) => r !== undefined))
  if (routes.length === 0) return []
  const line = (cells) => `| ${cells.join(' | ')} |`
  const header = [
    'route',
    'genuine ok, alone',
    'genuine ok, flood',
    'p50 ms alone / flood',
    'p99 ms alone / flood',
    'p99 ratio',
    'genuine req/s alone / flood',
    'relay CPU alone / flood',
    'forged req/s answered',
    'forged answers (all rounds)',
  ]
  const rows = routes.map(row)
  const allOk = routes.every((runs) =>
    runs.every((r) => r.loud.ok === r.loud.requests && r.loud.requests > 0),
  )
  const ratios = rows.map((r) => Number(r[5]))
  return [
    '',
    `Genuine callbacks during a forged flood (JSON fallback on): genuine callbacks at ${FLOOD.genuineRate} req/s offered`,
    `(${FLOOD.genuineConnections} connections), alone and then while ${FLOOD.floodConnections} connections from ${FLOOD.attacker} send ${int(FLOOD.bytes)}-byte forged`,
    'JSON bodies as fast as the relay answers them (bench/lib/flood-scenario.js). Medians over the rounds; "reset":',
    'the relay closed the connection under a request it shed.',
    '',
    line(header),
    line(header.map(() => '---')),
    ...rows.map(line),
    '',
    `- every genuine callback answered 200 during the flood: ${allOk ? 'met' : '**not met**'}`,
    `- genuine p99 within 2x of the same run without the flood: ${ratios.map((r) => r.toFixed(2)).join(', ')}, ${ratios.every((r) => r <= 2) ? 'met' : '**not met**'}`,
  ]
}
