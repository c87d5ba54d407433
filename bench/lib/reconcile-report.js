// The reconcile row of the results, when the run measured it: (b) with reconcile on over the mean of (b) with
// it off before and after, in throughput, CPU per callback and p99, each the median of the per-round ratios
// beside every round's; the second off over the first, the noise those are read against; and what reconcile
// did during the measured runs (the Tylt stand-in's count of the queries it answered).
import { reconcileSettings } from './reconcile-scenario.js'
import { median } from './stats.js'

const ms = (us) => (us / 1000).toFixed(2)
const int = (n) => Math.round(n).toLocaleString('en-US')

/**
 * A round's ratios: on against the mean of the offs around it (a drift of the machine during the round
 * cancels out), and the second off against the first, which is what two runs of the same relay give.
 */
export function onAgainstOff(off, on, offAgain) {
  const mean = (value) => (value(off) + value(offAgain)) / 2
  return {
    ratio: on.rps / mean((r) => r.rps),
    cpuRatio: on.cpuUsPerRequest / mean((r) => r.cpuUsPerRequest),
    noise: offAgain.rps / off.rps,
    cpuNoise: offAgain.cpuUsPerRequest / off.cpuUsPerRequest,
  }
}

export function reconcileSection(rounds) {
  const runs = rounds.map((r) => r.reconcile).filter((r) => r?.on !== undefined)
  if (runs.length === 0) return []
  const each = (value) => runs.map(value).join(', ')
  const mid = (value) => median(runs.map(value))
  return [
    '',
    'Reconcile on / off (`reconcile`): (b) at full load with reconcile on against `RECONCILE_INTERVAL=0`, the',
    `callbacks of ${int(runs[0].orders)} open orders taken before each warm-up, a Tylt stand-in answering every query`,
    `\`Pending\` (see "Reconcile on and off"); on: ${reconcileSettings()}, the rest at their defaults. Each round runs`,
    'off, on, off again; on is read against the mean of the two offs. Medians of the per-round ratios:',
    `- throughput, on / off: ${mid((r) => r.ratio).toFixed(2)} (per round ${each((r) => r.ratio.toFixed(2))}); ${int(mid((r) => r.on.rps))} against ${int(mid((r) => r.off.rps))} req/s`,
    `- throughput, off again / off (the noise): ${mid((r) => r.noise).toFixed(2)} (per round ${each((r) => r.noise.toFixed(2))})`,
    `- CPU per callback, on / off: ${mid((r) => r.cpuRatio).toFixed(2)} (per round ${each((r) => r.cpuRatio.toFixed(2))}); ${int(mid((r) => r.on.cpuUsPerRequest))} against ${int(mid((r) => r.off.cpuUsPerRequest))} µs`,
    `- CPU per callback, off again / off (the noise): ${mid((r) => r.cpuNoise).toFixed(2)} (per round ${each((r) => r.cpuNoise.toFixed(2))})`,
    `- p99: ${ms(mid((r) => r.on.p99Us))} against ${ms(mid((r) => r.off.p99Us))} ms`,
    `- queries answered by the stand-in during the measured runs: ${each((r) => int(r.on.queries))} (${each((r) => int(r.on.queries / (r.on.durationUs / 1e6)))} a second)`,
  ]
}
