// The reconcile row of the results, when the run measured it: (b) with reconcile on over (b) with it off, in
// throughput, CPU per callback and p99, each the median of the per-round ratios beside every round's, and
// what reconcile did during the measured runs (the Tylt stand-in's count of the queries it answered).
// A figure, judged on no threshold: the spread of the per-round ratios is the noise it is read against.
import { reconcileSettings } from './reconcile-scenario.js'
import { median } from './stats.js'

const ms = (us) => (us / 1000).toFixed(2)
const int = (n) => Math.round(n).toLocaleString('en-US')

export function reconcileSection(rounds) {
  const runs = rounds.map((r) => r.reconcile).filter((r) => r?.on !== undefined)
  if (runs.length === 0) return []
  const each = (value) => runs.map(value).join(', ')
  const mid = (value) => median(runs.map(value))
  return [
    '',
    'Reconcile on / off (`reconcile`): (b) at full load with reconcile on against `RECONCILE_INTERVAL=0`, the',
    `callbacks of ${int(runs[0].orders)} open orders taken before each warm-up, a Tylt stand-in answering every query`,
    `\`Pending\` (see "Reconcile on and off"); on: ${reconcileSettings()}, the rest at their defaults. On / off, medians of the per-round ratios:`,
    `- throughput: ${mid((r) => r.ratio).toFixed(2)} (per round ${each((r) => r.ratio.toFixed(2))}); ${int(mid((r) => r.on.rps))} against ${int(mid((r) => r.off.rps))} req/s`,
    `- CPU per callback: ${mid((r) => r.cpuRatio).toFixed(2)} (per round ${each((r) => r.cpuRatio.toFixed(2))}); ${int(mid((r) => r.on.cpuUsPerRequest))} against ${int(mid((r) => r.off.cpuUsPerRequest))} µs`,
    `- p99: ${ms(mid((r) => r.on.p99Us))} against ${ms(mid((r) => r.off.p99Us))} ms`,
    `- queries answered by the stand-in during the measured runs: ${each((r) => int(r.on.queries))} (${each((r) => int(r.on.queries / (r.on.durationUs / 1e6)))} a second); first in each round: ${each((r) => r.first)}`,
  ]
}
