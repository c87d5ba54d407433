// "Genuine callbacks during a forged flood", with the JSON fallback on. Two routes: `/webhooks/bench` and
// `POST /webhooks`, the relay holding 20 services of 2 keys each and the genuine callbacks signed with the
// older key of the one tried last (40 HMACs before the match on `POST /webhooks`, the worst case). For each
// forged-body size (one under the fallback's cap, one just under it, one larger than any callback) a fresh
// relay takes genuine callbacks from 127.0.0.1, at a moderate fixed rate (for p99) and then at full load
// (for throughput), each in slices alone interleaved with slices while 32 kept-alive connections from
// 127.0.0.2 send forged bodies as fast as the relay answers them, dropping any answer held back longer than
// FLOOD.abortMs (the flood pauses for the slices alone). The quarantine
// is bounded small (FLOOD.quarantineMaxBytes) so that the flood could overrun it, and its gauge is read
// from /metrics during and after the flood.
import { readFileSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { newNonce } from './body.js'
import { LOAD_CORE, load } from './load.js'
import { cpuTimeUs, removeFolder, sampleMemory, sleep, startPiped, waitUntil } from './proc.js'
import { SECRET, startRelay } from './relay.js'
import { median, pooledPercentile } from './stats.js'

const here = dirname(fileURLToPath(import.meta.url))
const PORT = Number(process.env.BENCH_PORT ?? 18301)
const OPS_PORT = PORT + 1

export const FLOOD = {
  genuineRate: 200,
  genuineConnections: 8,
  floodConnections: 32,
  /** 1 KB and 60 KB go through the JSON fallback (FALLBACK_MAX_BYTES 64 KiB) until the source is penalised. */
  sizes: [1_024, 61_440, 262_144],
  /** `--smoke` checks one size per route: the cheapest forgery on one, the costliest fallback on the other. */
  smokeSizes: { named: [1_024], any: [61_440] },
  attacker: '127.0.0.2',
  /**
   * The attacker drops a request unanswered after this long and sends the next, as a flood that does not
   * wait for answers would. BENCH_FLOOD_ABORT_MS=0 waits for every answer.
   */
  abortMs: Number(process.env.BENCH_FLOOD_ABORT_MS ?? 100),
  quarantineMaxBytes: 4 * 1024 * 1024,
  /** Slices alone and as many during the flood, per phase (each slice half of `--duration`); `--smoke`: 2. */
  pairs: 4,
  smokePairs: 2,
  /** From the flood's pause to the next slice alone: the quarantine's queue written, the loop settled. */
  settleMs: 1_000,
  /**
   * The flood generator shares the load core with the genuine client. At the same priority, its bursts (its
   * start, 32 requests at once; its reconnections) hold that core for a few milliseconds at a time, while
   * the genuine client's answers wait to be read and are timed as the relay's latency: an attacker on
   * another host costs Tylt's client nothing. So it runs at this niceness, taking the core whenever the
   * genuine client does not need it; the forged rate in each phase is in the table. BENCH_FLOOD_NICE=0 runs
   * it at the same priority.
   */
  nice: Number(process.env.BENCH_FLOOD_NICE ?? 19),
}

/** 19 services sorted before `bench`, then `bench` itself, 2 keys each; genuine load signs with bench's older. */
export function services() {
  const env = {
    TYLT_SECRET_BENCH: `bench-current-secret-7a41d2,${SECRET}`,
    SIGNATURE_JSON_FALLBACK: 'true',
    QUARANTINE_MAX_BYTES: String(FLOOD.quarantineMaxBytes),
  }
  for (let i = 0; i < 19; i++) {
    const name = `A${String(i).padStart(2, '0')}`
    env[`TYLT_SECRET_${name}`] = `flood-${name}-current-secret,flood-${name}-older-secret`
  }
  return env
}

/**
 * The relay's ready line lists every service of services(). Another build (`--before`) may not read the
 * variables this one reads; one that ignored some would serve other services and answer other callbacks,
 * so the scenario stops rather than measure it.
 */
async function assertServes(server, cli) {
  let served
  const readyLine = async () => {
    const line = readFileSync(server.logFile, 'utf8')
      .split('\n')
      .find((l) => l.includes('"msg":"tylt-relay ready'))
    served = line === undefined ? undefined : JSON.parse(line).services
    return served !== undefined
  }
  await waitUntil('the ready line', readyLine, { child: server.child, logFile: server.logFile })
  const expected = Object.keys(services()).filter((key) => key.startsWith('TYLT_SECRET_')).length
  if (served.length === expected) return
  await server.stop()
  throw new Error(
    `${cli ?? 'this build'} serves ${served.length} services, not the ${expected} of the flood scenario's variables`,
  )
}

/** The flood generator, started and waiting: `go()` starts the flood, `stop()` ends it and gives its tally. */
export async function attacker(url, bytes) {
  const options = {
    url,
    connections: FLOOD.floodConnections,
    bytes,
    localAddress: FLOOD.attacker,
    abortMs: FLOOD.abortMs,
  }
  const script = [process.execPath, join(here, 'flood.js'), JSON.stringify(options)]
  const [command, ...args] = FLOOD.nice > 0 ? ['nice', '-n', String(FLOOD.nice), ...script] : script
  const child = startPiped(command, args, { core: LOAD_CORE })
  // Complete lines not yet asked for, in order; and the one waiting for a line, if any.
  const lines = []
  let partial = ''
  let waiting
  child.stdout.on('data', (chunk) => {
    const parts = (partial + chunk).split('\n')
    partial = parts.pop()
    lines.push(...parts)
    waiting?.()
  })
  const printed = (prefix) =>
    new Promise((resolve, reject) => {
      const onExit = (code) => reject(new Error(`flood.js exited with ${code}:\n${lines.join('\n')}`))
      const look = () => {
        while (lines.length > 0) {
          const line = lines.shift()
          if (!line.startsWith(prefix)) continue
          waiting = undefined
          child.off('close', onExit)
          resolve(line.slice(prefix.length))
          return
        }
      }
      waiting = look
      child.once('close', onExit)
      look()
    })
  await printed('BENCH_FLOOD_READY')
  /** What was sent since the last tally: asks for one with `command` and reads its line. */
  const tally = async (command) => {
    const result = printed('BENCH_FLOOD ')
    if (command === 'stop') child.stdin.end('stop\n')
    else child.stdin.write(`${command}\n`)
    return JSON.parse(await result)
  }
  return {
    go: () => child.stdin.write('go\n'),
    mark: () => tally('mark'),
    pause: () => tally('pause'),
    stop: () => tally('stop'),
  }
}

/** The control's attacker: it never sends, and its tallies are empty. */
function noFlood() {
  const none = async () => ({ requests: 0, seconds: 0, rps: 0, answers: {} })
  return { go: () => {}, mark: none, pause: none, stop: none }
}

/** Samples the quarantine's bytes gauge once a second until stopped; resolves with the largest seen. */
function watchQuarantine(server) {
  let peak = 0
  let watching = true
  const done = (async () => {
    while (watching) {
      try {
        peak = Math.max(peak, (await server.metrics()).quarantineBytes)
      } catch {
        // A slow answer during the flood: the next sample, and the one after it, count.
      }
      await sleep(1_000)
    }
    return peak
  })()
  return {
    stop: () => {
      watching = false
      return done
    },
  }
}

/** The quarantine's files on disk (database, write-ahead log), in bytes. */
function quarantineFileBytes(dataDir) {
  let bytes = 0
  for (const name of ['quarantine.sqlite', 'quarantine.sqlite-wal']) {
    try {
      bytes += statSync(join(dataDir, name)).size
    } catch {
      // Not there (yet): nothing on disk.
    }
  }
  return bytes
}

/** The flood's tallies as one; its rate over the measured slices (`mark`s) only. */
function merge(tallies, marks) {
  const answers = {}
  for (const t of tallies)
    for (const [key, n] of Object.entries(t.answers)) answers[key] = (answers[key] ?? 0) + n
  const requests = tallies.reduce((a, t) => a + t.requests, 0)
  const marked = marks.reduce((a, t) => a + t.requests, 0)
  const seconds = marks.reduce((a, t) => a + t.seconds, 0)
  return { requests, rps: seconds > 0 ? marked / seconds : 0, answers }
}

/**
 * Slices of one kind as one run: counts and rate summed; p99 over every callback of every slice when wrk
 * gave their latencies, else (autocannon) the median of the slices' p99s.
 */
function combine(slices) {
  const sum = (key) => slices.reduce((a, r) => a + r[key], 0)
  const pooled = slices.every((r) => Array.isArray(r.histogram))
  return {
    requests: sum('requests'),
    ok: sum('ok'),
    non2xx: sum('non2xx'),
    socketErrors: sum('socketErrors'),
    timeouts: sum('timeouts'),
    rps: sum('requests') / (sum('durationUs') / 1e6),
    p99Us: pooled
      ? pooledPercentile(
          slices.map((r) => r.histogram),
          99,
        )
      : median(slices.map((r) => r.p99Us)),
    cpuShare: sum('cpuUs') / sum('wallUs'),
    slices: slices.map((r) => ({ rps: r.rps, p99Us: r.p99Us })),
  }
}

function genuineFailures(what, result) {
  const failures = []
  if (result.non2xx > 0) failures.push(`${result.non2xx} genuine callbacks ${what} were not answered 200`)
  if (result.socketErrors + result.timeouts > 0)
    failures.push(`${result.socketErrors + result.timeouts} genuine callbacks ${what} got no answer`)
  if (result.requests === 0) failures.push(`no genuine callback ${what} was answered`)
  return failures
}

/**
 * One phase at one offered rate (0: full load): `pairs` slices alone and as many during the flood, in the
 * order alone, flood, flood, alone, alone, flood, ... so that a relay that drifts faster or slower over the
 * phase (its store warming up, the disk's latency changing) weighs on both kinds alike. The flood pauses
 * before each alone slice and the relay is given `FLOOD.settleMs` to close what it held.
 */
async function interleaved(genuine, flood, rate, pairs) {
  const alone = []
  const during = []
  const tallies = []
  const marks = []
  let flooding = false
  for (let pair = 0; pair < pairs; pair++) {
    for (const kind of pair % 2 === 0 ? ['alone', 'flood'] : ['flood', 'alone']) {
      if (kind === 'flood' && !flooding) {
        flood.go()
        flooding = true
      }
      if (kind === 'alone' && flooding) {
        tallies.push(await flood.pause())
        flooding = false
        await sleep(FLOOD.settleMs)
      }
      const result = await genuine(rate)
      if (kind === 'alone') alone.push(result)
      else {
        during.push(result)
        const mark = await flood.mark()
        tallies.push(mark)
        marks.push(mark)
      }
    }
  }
  if (flooding) tallies.push(await flood.pause())
  return { alone: combine(alone), during: combine(during), forged: merge(tallies, marks) }
}

/**
 * One forged-body size on one route: a fresh relay, genuine load alone and during the flood, interleaved.
 * `cli`: another build's dist/cli.js, undefined for this checkout's.
 */
async function floodOfSize(plan, route, bytes, control, cli) {
  const server = await startRelay(PORT, OPS_PORT, { env: services(), cli })
  await assertServes(server, cli)
  const url = route === 'named' ? server.url : server.url.replace(/\/bench$/, '')
  const pid = server.child.pid
  const sliceS = Math.max(1, Math.round(plan.durationS / 2))
  const pairs = plan.smoke ? FLOOD.smokePairs : FLOOD.pairs
  const genuine = async (rate) => {
    const cpuAt = cpuTimeUs(pid)
    const startedAt = performance.now()
    const result = await load({
      url,
      durationS: sliceS,
      connections: FLOOD.genuineConnections,
      rate,
      secret: SECRET,
      nonce: newNonce(),
      forceAutocannon: plan.forceAutocannon,
      histogram: true,
    })
    result.cpuUs = cpuTimeUs(pid) - cpuAt
    result.wallUs = (performance.now() - startedAt) * 1000
    return result
  }
  await load({
    url,
    durationS: plan.warmS,
    connections: FLOOD.genuineConnections,
    rate: FLOOD.genuineRate,
    secret: SECRET,
    nonce: newNonce(),
    forceAutocannon: plan.forceAutocannon,
  })
  const flood = control ? noFlood() : await attacker(url, bytes)
  const memory = sampleMemory(pid)
  const quarantine = watchQuarantine(server)
  const atRate = await interleaved(genuine, flood, FLOOD.genuineRate, pairs)
  const atFull = await interleaved(genuine, flood, 0, pairs)
  const last = await flood.stop()
  const forged = merge([atRate.forged, atFull.forged, last], [])
  const peakQuarantine = await quarantine.stop()
  const { peak } = memory.stop()
  // What the quarantine still had queued is written within its flush interval.
  await sleep(500)
  const metrics = await server.metrics()
  const diskBytes = quarantineFileBytes(server.dataDir)
  const exit = await server.stop()
  removeFolder(server.dir)
  const quarantineBytes = Math.max(peakQuarantine, metrics.quarantineBytes)
  const [quiet, loud, quietFull, loudFull] = [atRate.alone, atRate.during, atFull.alone, atFull.during]
  // What genuine callbacks got during the flood is a figure of the table, judged on nothing: the attacker
  // shares the relay's cores here. Alone, every one must be answered 200.
  const failures = [...genuineFailures('alone', quiet), ...genuineFailures('alone at full load', quietFull)]
  if (exit !== 0) failures.push(`server exited with ${exit} on SIGTERM`)
  if (forged.answers['200'] !== undefined)
    failures.push(`${forged.answers['200']} forged requests answered 200`)
  const genuineOk = quiet.ok + quietFull.ok + loud.ok + loudFull.ok
  if (metrics.accepted < genuineOk)
    failures.push(`${genuineOk} genuine answered 200 but ${metrics.accepted} accepted`)
  if (quarantineBytes > FLOOD.quarantineMaxBytes)
    failures.push(
      `quarantine held ${quarantineBytes} bytes, over QUARANTINE_MAX_BYTES ${FLOOD.quarantineMaxBytes}`,
    )
  return {
    bytes,
    control,
    pairs,
    quiet,
    loud,
    quietFull,
    loudFull,
    forged,
    forgedAtRate: atRate.forged,
    forgedAtFull: atFull.forged,
    quarantine: { peak: quarantineBytes, requests: metrics.quarantineRequests, diskBytes },
    peakRss: peak,
    failures: failures.map((f) => `${bytes}-byte forgeries: ${f}`),
  }
}

/**
 * One route (`named` or `any`), every forged-body size in turn; with `control`, one run of the same slices
 * in which the flood is never started: what the ratios are when the two kinds of slice do not differ. With
 * `plan.builds` (`--before`), each size runs on each build in turn, so that both builds of a row meet the
 * machine in the same state; every flood then carries its build's label.
 */
export async function forgedFlood(plan, route, { control = false } = {}) {
  const sizes = control
    ? [0]
    : process.env.BENCH_FLOOD_BYTES
      ? process.env.BENCH_FLOOD_BYTES.split(',').map(Number)
      : plan.smoke
        ? FLOOD.smokeSizes[route]
        : FLOOD.sizes
  const floods = []
  for (const bytes of sizes)
    for (const [build, cli] of plan.builds ?? [[undefined, undefined]]) {
      const flood = await floodOfSize(plan, route, bytes, control, cli)
      floods.push(
        build === undefined
          ? flood
          : { ...flood, build, failures: flood.failures.map((f) => `${build}: ${f}`) },
      )
      await sleep(500)
    }
  const where = route === 'named' ? '/webhooks/:service' : 'POST /webhooks (20 services x 2 keys)'
  const label = `${control ? 'no flood (control)' : 'forged flood'}, ${where}`
  return { label, route, floods, failures: floods.flatMap((f) => f.failures) }
}
