// The "genuine callbacks during a forged flood" table of the results, when the run measured it: one row per
// route and forged-body size, and the control (no flood), medians over the rounds beside every round's
// ratio. They are figures, judged on nothing: the attacker shares the relay's cores on this machine, so what
// they show is what a flood costs the callbacks beside it, not a bound. The control's ratios give the noise.
// With `--before`, each row once per build, the other build's first.
import { FLOOD } from './flood-scenario.js'
import { median } from './stats.js'

const ms = (us) => (us / 1000).toFixed(2)
const int = (n) => Math.round(n).toLocaleString('en-US')
const pct = (share) => `${Math.round(share * 100)}%`
const kib = (bytes) => `${int(bytes / 1024)} KiB`
const sum = (values) => values.reduce((a, b) => a + b, 0)
const size = (bytes) => (bytes >= 1024 ? `${int(bytes / 1024)} KiB` : `${bytes} B`)

/** Every phase's genuine callbacks of one flood: answered 200, answered otherwise, unanswered, and sent. */
const genuine = (f) => {
  const phases = [f.quiet, f.quietFull, f.loud, f.loudFull]
  const total = (key) => sum(phases.map((p) => p[key]))
  return {
    ok: total('ok'),
    non2xx: total('non2xx'),
    unanswered: total('socketErrors') + total('timeouts'),
    requests: total('requests'),
  }
}
const p99Ratio = (f) => f.loud.p99Us / f.quiet.p99Us
const throughputRatio = (f) => f.loudFull.rps / f.quietFull.rps

function row(runs) {
  const answers = {}
  for (const f of runs)
    for (const [key, n] of Object.entries(f.forged.answers)) answers[key] = (answers[key] ?? 0) + n
  const total = (key) => sum(runs.map((f) => genuine(f)[key]))
  const other = [
    ...(total('non2xx') > 0 ? [`${int(total('non2xx'))} not 2xx`] : []),
    ...(total('unanswered') > 0 ? [`${int(total('unanswered'))} unanswered`] : []),
  ]
  return [
    ...(runs[0].build === undefined ? [] : [runs[0].build]),
    runs[0].route === 'named' ? '`/webhooks/:service`' : '`POST /webhooks`',
    runs[0].control ? 'none (control)' : size(runs[0].bytes),
    `${int(total('ok'))} / ${int(total('requests'))}${other.length > 0 ? ` (${other.join(', ')})` : ''}`,
    `${ms(median(runs.map((f) => f.quiet.p99Us)))} / ${ms(median(runs.map((f) => f.loud.p99Us)))}`,
    runs.map((f) => p99Ratio(f).toFixed(2)).join(', '),
    `${pct(median(runs.map((f) => f.quiet.cpuShare)))} / ${pct(median(runs.map((f) => f.loud.cpuShare)))}`,
    `${int(median(runs.map((f) => f.quietFull.rps)))} / ${int(median(runs.map((f) => f.loudFull.rps)))}`,
    runs.map((f) => throughputRatio(f).toFixed(2)).join(', '),
    `${int(median(runs.map((f) => f.forgedAtRate.rps)))} / ${int(median(runs.map((f) => f.forgedAtFull.rps)))}`,
    Object.entries(answers)
      .map(([key, n]) => `${key}: ${int(n)}`)
      .join(', '),
    `${kib(Math.max(...runs.map((f) => f.quarantine.peak)))} / ${kib(FLOOD.quarantineMaxBytes)}`,
  ]
}

/** Lines for docs/benchmarks.md, or none when the rounds did not measure the flood. */
export function floodSection(rounds) {
  const groups = new Map()
  for (const key of ['flood-named', 'flood-any', 'flood-control'])
    for (const round of rounds)
      for (const f of round[key]?.floods ?? []) {
        const id = `${key} ${f.bytes} ${f.build}`
        if (!groups.has(id)) groups.set(id, [])
        groups.get(id).push({ ...f, route: round[key].route })
      }
  if (groups.size === 0) return []
  const all = [...groups.values()]
  const floods = all.flat()
  const line = (cells) => `| ${cells.join(' | ')} |`
  const builds = [...new Set(floods.map((f) => f.build))]
  const header = [
    ...(builds[0] === undefined ? [] : ['build']),
    'route',
    'forged body',
    'genuine ok / sent',
    `p99 ms at ${FLOOD.genuineRate} req/s, alone / flood`,
    'p99 ratio, per round',
    `relay CPU at ${FLOOD.genuineRate} req/s, alone / flood`,
    'full-load req/s, alone / flood',
    'throughput ratio, per round',
    `forged req/s sent, at ${FLOOD.genuineRate} req/s / at full load`,
    'forged answers',
    'quarantine peak / max',
  ]
  const withinQuarantine = floods.every((f) => f.quarantine.peak <= FLOOD.quarantineMaxBytes)
  // Per build when there are two: "before 1.02, 0.97; after 0.99, 1.01".
  const perBuild = (list) =>
    builds
      .map((build) => {
        const text = list(all.filter((runs) => runs[0].build === build))
        return build === undefined ? text : `${build} ${text}`
      })
      .join('; ')
  const medianRatio = (ratio) =>
    perBuild((groups) =>
      groups
        .filter((runs) => !runs[0].control)
        .map((runs) => median(runs.map(ratio)).toFixed(2))
        .join(', '),
    )
  const controlRatios = (ratio) =>
    perBuild((groups) =>
      groups
        .filter((runs) => runs[0].control)
        .flat()
        .map((f) => ratio(f).toFixed(2))
        .join(', '),
    )
  const sent = sum(floods.map((f) => f.forged.requests))
  const largestFlood = Math.max(...floods.map((f) => f.forged.requests))
  return [
    '',
    `Genuine callbacks during a forged flood (JSON fallback on, bench/lib/flood-scenario.js): for each forged-body`,
    `size a fresh relay takes genuine callbacks from 127.0.0.1 (${FLOOD.genuineConnections} connections), first at ${FLOOD.genuineRate} req/s offered (p99),`,
    `then at full load (throughput). Each phase is ${floods[0].pairs} slices alone and ${floods[0].pairs} while ${FLOOD.floodConnections} kept-alive connections from`,
    `${FLOOD.attacker} send forged JSON bodies as fast as the relay answers, in the order alone, flood, flood, alone, ...;`,
    `the attacker drops an answer that takes more than ${FLOOD.abortMs} ms ("held"; "reset": the relay closed the connection`,
    `under a request it refused unread). A round's p99 and throughput are over every callback of its slices of that kind.`,
    `The control row runs the same slices with the flood never started. QUARANTINE_MAX_BYTES ${kib(FLOOD.quarantineMaxBytes)}, its gauge`,
    `read from /metrics.`,
    ...(builds[0] === undefined
      ? []
      : [
          `Build: each row ran on the build given with --before ("before"), then on this checkout's ("after"),`,
          `in every round, each on a fresh relay.`,
        ]),
    '',
    line(header),
    line(header.map(() => '---')),
    ...all.map((runs) => line(row(runs))),
    '',
    `- quarantine within QUARANTINE_MAX_BYTES throughout: ${withinQuarantine ? 'met' : '**not met**'}`,
    `- genuine throughput during the flood / alone, each row's median over the rounds: ${medianRatio(throughputRatio)}`,
    `- genuine p99 during the flood / alone, each row's median over the rounds: ${medianRatio(p99Ratio)}`,
    ...(all.some((runs) => runs[0].control)
      ? [
          `- the control, the same slices with no flood: p99 ratios ${controlRatios(p99Ratio)}; throughput ratios ${controlRatios(throughputRatio)}`,
        ]
      : []),
    `- forged requests sent: ${int(sent)} in all, ${int(largestFlood)} in the largest single flood`,
  ]
}
