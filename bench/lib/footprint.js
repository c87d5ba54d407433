// Footprint: what a server costs before its first request. Start to listen: the milliseconds from the spawn
// until its webhook port accepts a TCP connection (a connect every 5 ms). RSS: its VmRSS 3 s after that,
// and (full runs) 20 s after, once V8's memory reducer has run on the idle heap (it does 11-16 s after
// start here): the second is what an idle sidecar keeps resident. No request is sent at all. Measured once per run, for tylt-relay (embedded store, no downstream,
// started as startRelay starts it), the durable limit and the bare baseline, starts interleaved.
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { assertPortsFree, memory, portOpen, removeFolder, sleep, start, stop } from './proc.js'
import { baselineCommand, relayCommand, SERVER_CORE } from './relay.js'

const PORT = Number(process.env.BENCH_PORT ?? 18301)
const OPS_PORT = PORT + 1
const benchFolder = fileURLToPath(new URL('..', import.meta.url))
const POLL_MS = 5
const EARLY_MS = 3_000
const TIMEOUT_MS = 15_000

/** The servers measured, each with the command that starts it on PORT and the ports it takes. */
export const FOOTPRINT_SERVERS = [
  {
    key: 'b',
    label: '(b) tylt-relay, embedded store',
    ports: [PORT, OPS_PORT],
    command: () => relayCommand(PORT, OPS_PORT),
  },
  {
    key: 'limit',
    label: 'durable limit (bench/durable-limit.js)',
    ports: [PORT],
    command: () => baselineCommand(PORT, join(benchFolder, 'durable-limit.js')),
  },
  { key: 'a', label: '(a) bare node:http, verify only', ports: [PORT], command: () => baselineCommand(PORT) },
]

/**
 * One start of one server ({ ports, command } as in FOOTPRINT_SERVERS): spawn, time until its port accepts,
 * read VmRSS 3 s later and again at `idleMs`, stop.
 */
export async function startOnce(server, idleMs) {
  await assertPortsFree(...server.ports)
  const { dir, logFile, command, args, env, cwd } = server.command()
  const spawnedAt = performance.now()
  const child = start(command, args, { core: SERVER_CORE, env, cwd, logFile })
  const failures = []
  let listenMs
  while (performance.now() - spawnedAt < TIMEOUT_MS) {
    if (child.exitCode !== null || child.signalCode !== null) break
    if (await portOpen(PORT)) {
      listenMs = performance.now() - spawnedAt
      break
    }
    await sleep(POLL_MS)
  }
  let earlyRss
  let idleRss
  if (listenMs === undefined) {
    failures.push(`did not listen on ${PORT} (exit ${child.exitCode ?? child.signalCode ?? 'none'})`)
  } else {
    await sleep(EARLY_MS)
    earlyRss = memory(child.pid).rss
    if (idleMs > EARLY_MS) {
      await sleep(idleMs - EARLY_MS)
      idleRss = memory(child.pid).rss
    }
  }
  const exit = await stop(child)
  if (listenMs !== undefined && exit !== 0) failures.push(`exited with ${exit} on SIGTERM`)
  removeFolder(dir)
  return { listenMs, earlyRss, idleRss, failures }
}

/** `starts` starts of each server, interleaved so that a drift of the machine hits all of them alike. */
export async function footprint(plan, onStart = () => undefined) {
  const results = FOOTPRINT_SERVERS.map((server) => ({ key: server.key, label: server.label, starts: [] }))
  const failures = []
  for (let i = 0; i < plan.footprintStarts; i++) {
    for (const [index, server] of FOOTPRINT_SERVERS.entries()) {
      const one = await startOnce(server, plan.footprintIdleMs)
      failures.push(...one.failures.map((f) => `${server.label}: ${f}`))
      if (one.listenMs !== undefined) results[index].starts.push(one)
      onStart(server, one)
      await sleep(200)
    }
  }
  return { servers: results, failures }
}
