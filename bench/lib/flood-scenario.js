// "Genuine callbacks during a forged flood": genuine callbacks at a moderate fixed rate, measured once alone
// and once while 32 connections from another loopback address send 256 KB forged bodies as fast as the
// relay answers them, with the JSON fallback on. Two routes: `/webhooks/bench` and `POST /webhooks`, the
// relay holding 20 services of 2 keys each and the genuine callbacks signed with the older key of the one
// tried last (40 HMACs before the match on `POST /webhooks`, the worst case).
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { newNonce } from './body.js'
import { LOAD_CORE, load } from './load.js'
import { cpuTimeUs, removeFolder, run, sampleMemory, sleep } from './proc.js'
import { SECRET, startRelay } from './relay.js'

const here = dirname(fileURLToPath(import.meta.url))
const PORT = Number(process.env.BENCH_PORT ?? 18301)
const OPS_PORT = PORT + 1

export const FLOOD = {
  genuineRate: 200,
  genuineConnections: 8,
  floodConnections: 32,
  bytes: 262_144,
  attacker: '127.0.0.2',
}

/** 19 services sorted before `bench`, then `bench` itself, 2 keys each; genuine load signs with bench's older. */
function services() {
  const env = { TYLT_SECRET_BENCH: `bench-current-secret-7a41d2,${SECRET}`, SIGNATURE_JSON_FALLBACK: 'true' }
  for (let i = 0; i < 19; i++) {
    const name = `A${String(i).padStart(2, '0')}`
    env[`TYLT_SECRET_${name}`] = `flood-${name}-current-secret,flood-${name}-older-secret`
  }
  return env
}

function flood(url, durationS) {
  const options = {
    url,
    durationS,
    connections: FLOOD.floodConnections,
    bytes: FLOOD.bytes,
    localAddress: FLOOD.attacker,
    // BENCH_FLOOD_ABORT_MS: an attacker that drops every request unanswered after that long, instead of
    // waiting for the relay's answers (which it holds back a second for a shed suspect).
    abortMs: Number(process.env.BENCH_FLOOD_ABORT_MS ?? 0),
  }
  return run(process.execPath, [join(here, 'flood.js'), JSON.stringify(options)], { core: LOAD_CORE }).then(
    (output) => {
      const line = output.split('\n').find((l) => l.startsWith('BENCH_FLOOD '))
      if (line === undefined) throw new Error(`flood.js printed no result:\n${output}`)
      return JSON.parse(line.slice('BENCH_FLOOD '.length))
    },
  )
}

function genuineFailures(what, result) {
  const failures = []
  if (result.non2xx > 0) failures.push(`${result.non2xx} genuine callbacks ${what} were not answered 200`)
  if (result.socketErrors + result.timeouts > 0)
    failures.push(`${result.socketErrors + result.timeouts} genuine callbacks ${what} got no answer`)
  if (result.requests === 0) failures.push(`no genuine callback ${what} was answered`)
  return failures
}

/** One route (`named` or `any`): the genuine run alone, then the same with the flood. */
export async function forgedFlood(plan, route) {
  const server = await startRelay(PORT, OPS_PORT, { env: services() })
  const url = route === 'named' ? server.url : server.url.replace(/\/bench$/, '')
  const genuine = (durationS) =>
    load({
      url,
      durationS,
      connections: FLOOD.genuineConnections,
      rate: FLOOD.genuineRate,
      secret: SECRET,
      nonce: newNonce(),
      forceAutocannon: plan.forceAutocannon,
    })
  await genuine(plan.warmS)
  const pid = server.child.pid
  let cpuAt = cpuTimeUs(pid)
  let startedAt = performance.now()
  const quiet = await genuine(plan.durationS)
  quiet.cpuShare = (cpuTimeUs(pid) - cpuAt) / ((performance.now() - startedAt) * 1000)
  const memory = sampleMemory(pid)
  cpuAt = cpuTimeUs(pid)
  startedAt = performance.now()
  const flooding = flood(url, plan.durationS + 1)
  const loud = await genuine(plan.durationS)
  loud.cpuShare = (cpuTimeUs(pid) - cpuAt) / ((performance.now() - startedAt) * 1000)
  const forged = await flooding
  const { peak } = memory.stop()
  await sleep(200)
  const metrics = await server.metrics()
  const exit = await server.stop()
  removeFolder(server.dir)
  const failures = [...genuineFailures('alone', quiet), ...genuineFailures('during the flood', loud)]
  if (exit !== 0) failures.push(`server exited with ${exit} on SIGTERM`)
  if (forged.answers['200'] !== undefined)
    failures.push(`${forged.answers['200']} forged requests answered 200`)
  if (metrics.accepted < quiet.ok + loud.ok)
    failures.push(`${quiet.ok + loud.ok} genuine answered 200 but ${metrics.accepted} accepted`)
  const label = `forged flood, ${route === 'named' ? '/webhooks/:service' : 'POST /webhooks (20 services x 2 keys)'}`
  return { label, route, quiet, loud, forged, ...loud, peakRss: peak, metrics, failures }
}
