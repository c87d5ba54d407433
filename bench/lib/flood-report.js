// The "genuine callbacks during a forged flood" table of the results, when the run measured it: one row per
// route and forged-body size, and the control (no flood), medians over the rounds beside every round's
// ratio. They are figures, judged on nothing: the attacker shares the relay's cores on this machine, so what
// they show is what a flood costs the callbacks beside it, not a bound. The control's ratios give the noise.
import { FLOOD } from './flood-scenario.js'
import { median } from './stats.js'

const ms = (us) => (us / 1000).toFixed(2)
const int = (n) => Math.round(n).toLocaleString('en-US')
const pct = (share) => `${Math.round(share * 100)}%`
const kib = (bytes) => `${int(bytes / 1024)} KiB`
const sum = (values) => values.reduce((a, b) => a + b, 0)
const size = (bytes) => (bytes >= 1024 ? `${int(bytes / 1024)} KiB` : `${bytes} B`)

/** Every phase's genuine callbacks of one flood: answered 200, and sent. */
const genuine = (f) => {
  const phases = [f.quiet, f.quietFull, f.loud, f.loudFull]
  return { ok: sum(phases.map((p) => p.ok)), requests: sum(phases.map((p) => p.requests)) }
}
const p99Ratio = (f) => f.loud.p99Us / f.quiet.p99Us
const throughputRatio = (f) => f.loudFull.rps / f.quietFull.rps

function row(runs) {
  const answers = {}
  for (const f of runs)
    for (const [key, n] of Object.entries(f.forged.answers)) answers[key] = (answers[key] ?? 0) + n
  const ok = sum(runs.map((f) => genuine(f).ok))
  const requests = sum(runs.map((f) => genuine(f).requests))
  return [
    runs[0].route === 'named' ? '`/webhooks/:service`' : '`POST /webhooks`',
    runs[0].control ? 'none (control)' : size(runs[0].bytes),
    `${int(ok)} / ${int(requests)}`,
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
        const id = `${key} ${f.bytes}`
        if (!groups.has(id)) groups.set(id, [])
        groups.get(id).push({ ...f, route: round[key].route })
      }
  if (groups.size === 0) return []
  const all = [...groups.values()]
  const floods = all.flat()
  const line = (cells) => `| ${cells.join(' | ')} |`
  const header = [
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
  const controls = all.filter((runs) => runs[0].control).flat()
  const medianRatio = (ratio) =>
    all
      .filter((runs) => !runs[0].control)
      .map((runs) => median(runs.map(ratio)).toFixed(2))
      .join(', ')
  const sent = sum(floods.map((f) => f.forged.requests))
  const largestFlood = Math.max(...floods.map((f) => f.forged.requests))
  const ratios = (ratio) => controls.map((f) => ratio(f).toFixed(2)).join(', ')
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
    '',
    line(header),
    line(header.map(() => '---')),
    ...all.map((runs) => line(row(runs))),
    '',
    `- quarantine within QUARANTINE_MAX_BYTES throughout: ${withinQuarantine ? 'met' : '**not met**'}`,
    `- genuine throughput during the flood / alone, each row's median over the rounds: ${medianRatio(throughputRatio)}`,
    `- genuine p99 during the flood / alone, each row's median over the rounds: ${medianRatio(p99Ratio)}`,
    ...(controls.length > 0
      ? [
          `- the control, the same slices with no flood: p99 ratios ${ratios(p99Ratio)}; throughput ratios ${ratios(throughputRatio)}`,
        ]
      : []),
    `- forged requests sent: ${int(sent)} in all, ${int(largestFlood)} in the largest single flood`,
  ]
}
