#!/usr/bin/env node
/**
 * Chaos run: does anything answered "ok" get lost on the way downstream?
 *
 * Sends N signed callbacks at R per second to a relay (dist/, so `npm run build` first) that forwards to a
 * Redis of its own (own port, own temp folder, AOF fsync always so Redis itself loses nothing). During the
 * run it stops and restarts that Redis, and SIGKILLs and restarts the relay. Then it waits for the drain and
 * compares what got `200 ok` with what arrived in the stream, by webhook-id.
 *
 *   node bench/chaos.js [--events N] [--rate R] [--drain-timeout S] [--keep]
 *   CHAOS_EVENTS=N CHAOS_RATE=R npm run chaos
 *
 * Prints accepted, delivered, duplicates and lost; exits 1 when lost > 0. Requests in flight at the SIGKILL
 * may get no answer: Tylt would see a failure there, so only `200 ok` counts as accepted.
 */
import { spawn } from 'node:child_process'
import { createHmac } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import http from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import { eventId } from '../dist/event/event-id.js'

const { values: flags } = parseArgs({
  options: {
    events: { type: 'string' },
    rate: { type: 'string' },
    'drain-timeout': { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
})
const EVENTS = Number(flags.events ?? process.env.CHAOS_EVENTS ?? 2_000)
const RATE = Number(flags.rate ?? process.env.CHAOS_RATE ?? 500)
const DRAIN_TIMEOUT_MS = Number(flags['drain-timeout'] ?? process.env.CHAOS_DRAIN_TIMEOUT ?? 120) * 1000
if (!(EVENTS > 0 && RATE > 0)) {
  console.error('--events and --rate must be positive numbers')
  process.exit(2)
}

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
const SECRET = 'chaos-secret-not-for-production'
const SERVICE = 'chaos'
const STREAM = 'tylt-chaos'
const RUN = Date.now().toString(36)
const work = mkdtempSync(join(tmpdir(), 'tylt-chaos-'))
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const log = (message) =>
  console.log(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${message}`)
const t0 = performance.now()

async function freePort() {
  const server = createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

function exited(child) {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', resolve))
}

async function waitFor(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not ready within ${timeoutMs} ms`)
    await sleep(50)
  }
}

// ---- Redis of our own ----------------------------------------------------------------------------------
const redisPort = await freePort()
const redisDir = join(work, 'redis')
let redis
async function startRedis() {
  const { mkdirSync } = await import('node:fs')
  mkdirSync(redisDir, { recursive: true })
  redis = spawn(
    'redis-server',
    [
      '--port',
      String(redisPort),
      '--bind',
      '127.0.0.1',
      '--dir',
      redisDir,
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--daemonize',
      'no',
    ],
    { cwd: redisDir, env: { PATH: process.env.PATH ?? '' }, stdio: 'ignore' },
  )
  const probe = new Redis({
    port: redisPort,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  probe.on('error', () => undefined) // refused until redis-server listens
  await waitFor(
    async () => {
      await probe.connect().catch(() => undefined)
      return (await probe.ping()) === 'PONG'
    },
    10_000,
    'redis',
  )
  probe.disconnect()
}
async function stopRedis() {
  redis.kill('SIGTERM') // a clean shutdown: the AOF holds every acknowledged XADD
  await exited(redis)
}

// ---- the relay -----------------------------------------------------------------------------------------
const relayPort = await freePort()
const opsPort = await freePort()
const env = {
  PATH: process.env.PATH ?? '',
  HOST: '127.0.0.1',
  OPS_HOST: '127.0.0.1',
  PORT: String(relayPort),
  OPS_PORT: String(opsPort),
  DATA_DIR: join(work, 'relay'),
  LOG_LEVEL: 'warn',
  [`TYLT_SECRET_${SERVICE.toUpperCase()}`]: SECRET,
  FORWARD_URL: `redis://127.0.0.1:${redisPort}?stream=${STREAM}`,
}
let relay
/** Set while the relay is down on purpose (between the SIGKILL and /readyz). */
let relayDown
async function startRelay() {
  // Its own working directory: a `.env` in the checkout must not configure the relay under test.
  relay = spawn(process.execPath, [CLI, 'serve'], { cwd: work, env, stdio: ['ignore', 'ignore', 'inherit'] })
  await waitFor(async () => (await fetch(`http://127.0.0.1:${opsPort}/readyz`)).ok, 15_000, 'relay')
}

// ---- the sender: a stand-in for Tylt -------------------------------------------------------------------
const agent = new http.Agent({ keepAlive: true, maxSockets: 128 })
const accepted = new Set()
const counts = { sent: 0, ok: 0, refused: 0, noAnswer: 0 }
/** Refusals by status and unanswered requests by error code, to tell overload from a crash. */
const why = {}
const tally = (key) => (why[key] = (why[key] ?? 0) + 1)

function bodyOf(i) {
  return Buffer.from(
    JSON.stringify({
      type: 'pay-in',
      data: {
        orderId: `chaos-${RUN}-${i}`,
        merchantOrderId: `M-${RUN}-${i}`,
        baseAmount: 10 + (i % 990),
        baseCurrency: 'USDT',
        status: 'Completed',
      },
    }),
  )
}

function send(i) {
  const body = bodyOf(i)
  const signature = createHmac('sha256', SECRET).update(body).digest('hex')
  counts.sent++
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: relayPort,
        method: 'POST',
        path: `/webhooks/${SERVICE}`,
        agent,
        headers: { 'content-type': 'application/json', 'x-tlp-signature': signature },
        timeout: 15_000,
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk) => (text += chunk))
        res.on('end', () => {
          if (res.statusCode === 200 && text === 'ok') {
            counts.ok++
            accepted.add(eventId(SERVICE, body))
          } else {
            counts.refused++
            tally(`${res.statusCode} ${text}`)
          }
          resolve()
        })
        res.on('error', (err) => {
          counts.noAnswer++
          tally(err.code ?? err.message)
          resolve()
        })
      },
    )
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', (err) => {
      counts.noAnswer++
      tally(err.code ?? err.message)
      resolve()
    })
    req.end(body)
  })
}

/** Sends every event at RATE per second, firing the chaos steps as the run passes their marks. */
async function sendAll(steps) {
  const inFlight = new Set()
  const started = performance.now()
  let next = 0
  while (next < EVENTS) {
    // While the relay is being restarted, callbacks wait (as if Tylt had nothing to send for a moment) and
    // then go as a burst: the run measures what happens to acknowledged events, not the restart time.
    if (relayDown !== undefined) await relayDown
    const due = Math.min(EVENTS, Math.floor(((performance.now() - started) / 1000) * RATE) + 1)
    for (; next < due; next++) {
      const pending = send(next).finally(() => inFlight.delete(pending))
      inFlight.add(pending)
      const step = steps.find((s) => !s.done && next >= s.at * EVENTS)
      if (step !== undefined) {
        step.done = true
        // Chaos runs beside the traffic, never holding it up.
        step.run().catch((err) => {
          log(`chaos step failed: ${err.message}`)
          process.exitCode = 3
        })
      }
    }
    await sleep(5)
  }
  await Promise.all(inFlight)
  return (performance.now() - started) / 1000
}

// ---- what arrived downstream ---------------------------------------------------------------------------
async function readStream() {
  const reader = new Redis({ port: redisPort, maxRetriesPerRequest: 1 })
  const seen = new Map()
  let entries = 0
  let from = '-'
  for (;;) {
    const page = await reader.xrange(STREAM, from, '+', 'COUNT', 5_000)
    for (const [entryId, fields] of page) {
      if (entryId === from) continue
      entries++
      const at = fields.indexOf('webhook-id')
      const id = at >= 0 ? fields[at + 1] : undefined
      seen.set(id, (seen.get(id) ?? 0) + 1)
    }
    if (page.length < 5_000) break
    from = page[page.length - 1][0]
  }
  reader.disconnect()
  return { seen, entries }
}

async function main() {
  log(`work folder ${work}; ${EVENTS} events at ${RATE}/s to a relay forwarding to Redis :${redisPort}`)
  await startRedis()
  await startRelay()
  const steps = [
    {
      at: 0.2,
      async run() {
        log('chaos: stopping Redis')
        await stopRedis()
        await sleep(Math.max(1_500, (0.1 * EVENTS * 1000) / RATE))
        log('chaos: starting Redis again')
        await startRedis()
      },
    },
    {
      at: 0.8,
      async run() {
        log('chaos: SIGKILL the relay')
        let back
        relayDown = new Promise((resolve) => (back = resolve))
        relay.kill('SIGKILL')
        await exited(relay)
        await startRelay().finally(() => {
          relayDown = undefined
          back()
        })
        log('chaos: relay restarted')
      },
    },
  ]
  const seconds = await sendAll(steps)
  log(
    `sent ${counts.sent} in ${seconds.toFixed(1)} s: ${counts.ok} ok, ${counts.refused} refused, ${counts.noAnswer} unanswered`,
  )
  while (steps.some((s) => !s.done)) await sleep(100)
  // Steps run in the background: wait until both processes are up again before judging the drain.
  await waitFor(async () => (await fetch(`http://127.0.0.1:${opsPort}/readyz`)).ok, 30_000, 'relay')

  const drainStarted = Date.now()
  let result
  for (;;) {
    result = await readStream()
    const missing = [...accepted].filter((id) => !result.seen.has(id)).length
    if (missing === 0) break
    if (Date.now() - drainStarted > DRAIN_TIMEOUT_MS) {
      log(`drain timeout: ${missing} accepted events not delivered`)
      break
    }
    await sleep(500)
  }
  log(`drained in ${((Date.now() - drainStarted) / 1000).toFixed(1)} s`)

  const delivered = [...accepted].filter((id) => result.seen.has(id)).length
  const lost = accepted.size - delivered
  const duplicates = result.entries - result.seen.size
  const unacknowledged = [...result.seen.keys()].filter((id) => !accepted.has(id)).length
  const report = {
    events: EVENTS,
    rate: RATE,
    accepted: accepted.size,
    delivered,
    duplicates,
    lost,
    // Committed and forwarded, but the answer never reached the sender (in flight at the SIGKILL).
    deliveredWithoutOk: unacknowledged,
    refused: counts.refused,
    unanswered: counts.noAnswer,
    streamEntries: result.entries,
    notAccepted: why,
  }
  console.log(JSON.stringify(report, null, 2))
  return lost
}

let lost = 1
try {
  lost = await main()
} catch (err) {
  console.error(`chaos run failed: ${err.stack ?? err}`)
  process.exitCode = 3
} finally {
  agent.destroy()
  if (relay !== undefined) {
    relay.kill('SIGTERM')
    const stopped = await Promise.race([exited(relay).then(() => true), sleep(40_000).then(() => false)])
    log(
      stopped
        ? `relay stopped (${relay.exitCode ?? relay.signalCode})`
        : 'relay did not stop on SIGTERM within 40 s',
    )
    if (!stopped) relay.kill('SIGKILL')
  }
  if (redis !== undefined) await stopRedis()
  if (!flags.keep) rmSync(work, { recursive: true, force: true })
}
if (lost > 0 && process.exitCode === undefined) process.exitCode = 1
// Client sockets (fetch keep-alive) would hold the process a while longer for nothing.
process.exit()
