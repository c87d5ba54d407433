// The measured scenarios. Each starts a fresh server (fresh store), warms it up with bodies of its own,
// measures, checks that nothing was lost, and stops it; a failed check is reported, never thrown.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { newNonce } from './body.js'
import { load, sendWithAutocannon } from './load.js'
import { freshSchema } from './postgres.js'
import { cpuTimeUs, removeFolder, sampleMemory, sleep, TMPFS } from './proc.js'
import { startRedis } from './redis.js'
import { SECRET, startBaseline, startRelay } from './relay.js'

export const PORT = Number(process.env.BENCH_PORT ?? 18301)
export const OPS_PORT = PORT + 1
const REDIS_PORT = PORT + 100
/** The offered rates of the "at a realistic rate" runs: a busy merchant's peak, and a quiet hour. */
export const FIXED_RATE = 2_000
export const LOW_RATE = 200
const benchFolder = fileURLToPath(new URL('..', import.meta.url))

/**
 * Warm-up, then the measured run with the server's memory sampled; `beforeRun` is awaited between the two
 * (readings that must bracket the measured run alone).
 */
export async function measure(server, plan, { rate = 0, durationS = plan.durationS, beforeRun } = {}) {
  const common = { url: server.url, secret: SECRET, rate, forceAutocannon: plan.forceAutocannon }
  await load({ ...common, durationS: plan.warmS, nonce: newNonce() })
  await beforeRun?.()
  const memory = sampleMemory(server.child.pid)
  const cpuBefore = cpuTimeUs(server.child.pid)
  const result = await load({ ...common, durationS, nonce: newNonce() })
  const cpuUsPerRequest = (cpuTimeUs(server.child.pid) - cpuBefore) / result.requests
  const { peak, samples } = memory.stop()
  return { ...result, peakRss: peak, samples, cpuUsPerRequest }
}

/**
 * Every answer must be 2xx, except the relay's `503 overloaded` refusals (its overload guard, when its
 * event loop lags on a busy machine): a refusal is not a loss, since nothing was acknowledged. They are
 * counted in the result and shown, never gated on.
 */
function loadFailures(result, metrics) {
  const failures = []
  const refused = metrics?.overloaded ?? 0
  if (result.non2xx > refused)
    failures.push(`${result.non2xx - refused} answers were neither 2xx nor 503 overloaded`)
  if (result.requests === 0) failures.push('no request was answered')
  result.overloaded = refused
  return failures
}

const kept = []

/**
 * Stops the server (it must exit 0) and counts, in its SQLite file, the events stored and what each of
 * `queries` (name: `SELECT count(*) AS n ...`) finds; then removes its folder.
 */
export async function stopAndCount(server, failures, queries = {}) {
  const exit = await server.stop()
  if (exit !== 0) failures.push(`server exited with ${exit} on SIGTERM`)
  const counted = {}
  if (server.dataDir !== undefined) {
    const db = new Database(join(server.dataDir, server.storeFile ?? 'tylt-relay.sqlite'), { readonly: true })
    for (const [name, sql] of Object.entries({ stored: 'SELECT count(*) AS n FROM events', ...queries })) {
      let count
      try {
        count = db.prepare(sql)
      } catch (err) {
        if (name === 'stored') throw err
        failures.push(`cannot count ${name}: ${err.message}`)
        continue
      }
      counted[name] = count.get().n
      // Never garbage: on Node 24, better-sqlite3 12 aborts the process when the collector frees a statement.
      kept.push(count)
    }
    db.close()
    kept.push(db)
  }
  removeFolder(server.dir)
  return counted
}

const stopChecked = async (server, failures) => (await stopAndCount(server, failures)).stored

/** (a) The bare node:http verify-only server. */
export async function baseline(plan, options = {}) {
  const server = await startBaseline(PORT)
  const result = await measure(server, plan, options)
  const failures = loadFailures(result)
  await stopChecked(server, failures)
  return {
    label: options.rate ? `(a) at ${options.rate} req/s offered` : '(a) baseline',
    ...result,
    failures,
  }
}

/**
 * The durable limit (bench/durable-limit.js): verify, insert (id, body) into SQLite once per turn, fdatasync,
 * `ok`. Every `200` must be in its table afterwards.
 */
export async function durableLimit(plan, options = {}) {
  const started = await startBaseline(PORT, join(benchFolder, 'durable-limit.js'), {}, options)
  const server = { ...started, dataDir: started.dir, storeFile: 'limit.sqlite' }
  const result = await measure(server, plan, options)
  const failures = loadFailures(result)
  const stored = await stopChecked(server, failures)
  if (stored < result.ok) failures.push(`${result.ok} answered 200 but ${stored} stored`)
  return {
    label: options.rate ? `durable limit at ${options.rate} req/s offered` : 'durable limit',
    ...result,
    failures,
  }
}

/** What each reference server (bench/reference.js) is, by its REFERENCE value. */
export const REFERENCES = {
  fastify: 'reference: Fastify, verify only',
  journal: 'reference: Fastify + file append + fdatasync',
  sqlite: 'reference: Fastify + SQLite, unique id',
  postgres: 'reference: Fastify + PostgreSQL, one insert per callback',
}

/** A reference server: the least a receiver of its kind does, to bound what the relay can reach here. */
export async function reference(plan, kind) {
  const schema = kind === 'postgres' ? await freshSchema() : undefined
  const env = { REFERENCE: kind, ...(schema ? { STORE_URL: schema.url } : {}) }
  const server = await startBaseline(PORT, join(benchFolder, 'reference.js'), env)
  const result = await measure(server, plan)
  const failures = loadFailures(result)
  await stopChecked(server, failures)
  if (schema) {
    const stored = await schema.count('events')
    if (stored < result.ok) failures.push(`${result.ok} answered 200 but ${stored} stored`)
    await schema.drop()
  }
  return { label: REFERENCES[kind], ...result, failures }
}

/**
 * Every 200 the load generator saw must be in the store. The store may hold up to one event per connection
 * and load run (warm-up and measured run) more than the relay counted as answered: wrk closes its
 * connections at the end of a run with requests in flight, which the relay commits but cannot answer.
 */
export function storeFailures(result, metrics, stored, cut = 2 * 32) {
  const failures = loadFailures(result, metrics)
  if (metrics.duplicate > 0) failures.push(`${metrics.duplicate} bodies repeated (a bench defect)`)
  if (metrics.accepted < result.ok)
    failures.push(`${result.ok} answered 200 but ${metrics.accepted} accepted`)
  if (stored < metrics.accepted)
    failures.push(`${metrics.accepted} accepted but ${stored} stored: events lost`)
  if (stored > metrics.accepted + cut) failures.push(`${stored} stored but only ${metrics.accepted} accepted`)
  return failures
}

/** (b) tylt-relay on its embedded store; without a downstream every accepted event stays stored. */
export async function relayEmbedded(plan, options = {}) {
  const server = await startRelay(PORT, OPS_PORT, { tmpfs: options.tmpfs })
  const result = await measure(server, plan, options)
  await sleep(200)
  const metrics = await server.metrics()
  const failures = []
  const stored = await stopChecked(server, failures)
  failures.push(...storeFailures(result, metrics, stored))
  // Without a downstream every accepted event is kept `stored` (docs/downstreams.md): none waits as pending.
  if (metrics.pending !== 0) failures.push(`${metrics.pending} pending with no downstream`)
  const label = options.rate ? `(b) at ${options.rate} req/s offered` : '(b) tylt-relay, embedded store'
  return { label, ...result, metrics, failures }
}

/**
 * (p) tylt-relay on PostgreSQL (STORE_URL, a fresh schema): every `200` after the commit of its event, the
 * appends of one turn in one statement. Compared with the PostgreSQL reference server in the same rounds.
 */
export async function relayPostgres(plan) {
  const schema = await freshSchema()
  const server = await startRelay(PORT, OPS_PORT, { storeUrl: schema.url })
  const result = await measure(server, plan)
  await sleep(200)
  const metrics = await server.metrics()
  const failures = []
  await stopChecked(server, failures)
  const stored = await schema.count('tylt_events')
  failures.push(...storeFailures(result, metrics, stored))
  await schema.drop()
  return { label: '(p) tylt-relay on PostgreSQL', ...result, metrics, failures }
}

/**
 * cpu-bound: the durable limit, then (b), with their stores on tmpfs, where an fdatasync returns at once: the
 * disk hides nothing, and the ratio is what each costs in CPU per callback (docs/benchmarks.md, "CPU per
 * callback: the cpu-bound row").
 */
export async function cpuBound(plan) {
  const label = 'cpu-bound: (b) / durable limit, both stores on tmpfs'
  if (!existsSync(TMPFS)) return { label, skipped: `${TMPFS} is missing`, failures: [] }
  const limit = await durableLimit(plan, { tmpfs: true })
  await sleep(500)
  const relay = await relayEmbedded(plan, { tmpfs: true })
  const failures = [...limit.failures.map((f) => `durable limit: ${f}`), ...relay.failures]
  // On a machine shared with other work the throughput follows the share of the core each run got; the CPU
  // each callback took follows what the server does, so both ratios are reported.
  const cpuRatio = limit.cpuUsPerRequest / relay.cpuUsPerRequest
  return { ...relay, label, limit, ratio: relay.rps / limit.rps, cpuRatio, failures }
}

/**
 * The relay and the durable limit at fixed offered rates, for what a callback costs (server CPU per answered
 * request) and its latency when the server is not saturated: at 2,000 and at 200 req/s.
 */
export const fixedRate = (plan) => relayEmbedded(plan, { rate: FIXED_RATE })
export const limitRate = (plan) => durableLimit(plan, { rate: FIXED_RATE })
export const lowRate = (plan) => relayEmbedded(plan, { rate: LOW_RATE })
export const limitLowRate = (plan) => durableLimit(plan, { rate: LOW_RATE })

/** (c) tylt-relay forwarding to a private Redis; afterwards every accepted event must be in the stream. */
export async function forwarding(plan) {
  const redis = await startRedis(REDIS_PORT)
  const stream = `bench-${newNonce()}`
  const server = await startRelay(PORT, OPS_PORT, {
    forwardUrl: `redis://127.0.0.1:${REDIS_PORT}?stream=${stream}`,
  })
  const result = await measure(server, plan)
  const deadline = Date.now() + 60_000
  let metrics = await server.metrics()
  // Nothing pending twice, half a second apart: requests wrk cut off at the end of its run may still be
  // committing when the first reading is taken.
  for (let quiet = 0; quiet < 2 && Date.now() < deadline; ) {
    await sleep(metrics.pending > 0 ? 100 : 500)
    metrics = await server.metrics()
    quiet = metrics.pending > 0 ? 0 : quiet + 1
  }
  const failures = []
  const stored = await stopChecked(server, failures)
  // Read after the stop, whose drain may still have delivered what arrived last.
  const delivered = await redis.xlen(stream)
  failures.push(...storeFailures(result, metrics, stored))
  if (metrics.pending > 0) failures.push(`${metrics.pending} events still pending after 60 s`)
  if (delivered !== stored) failures.push(`${stored} stored, ${delivered} in the stream: not all delivered`)
  await redis.stop()
  return { label: '(c) tylt-relay -> Redis', ...result, metrics, stored, delivered, failures }
}

/**
 * (d) Events accepted while Redis is down, then Redis started: how fast the backlog goes out. The clock
 * starts at the first entry in the stream, so the forwarder's backoff (up to a minute by design) while
 * Redis was away is reported apart from the drain rate.
 */
export async function drain(plan) {
  const stream = `drain-${newNonce()}`
  const server = await startRelay(PORT, OPS_PORT, {
    forwardUrl: `redis://127.0.0.1:${REDIS_PORT}?stream=${stream}`,
  })
  const failures = []
  // Exactly drainEvents accepted: any the overload guard refused are sent again (new bodies).
  let before = await server.metrics()
  for (let attempt = 0; attempt < 3 && before.accepted < plan.drainEvents; attempt++) {
    const sent = await sendWithAutocannon({
      url: server.url,
      connections: 32,
      amount: plan.drainEvents - before.accepted,
      secret: SECRET,
      nonce: newNonce(),
    })
    const refusedBefore = before.overloaded
    before = await server.metrics()
    failures.push(...loadFailures(sent, { overloaded: before.overloaded - refusedBefore }))
  }
  if (before.accepted !== plan.drainEvents)
    failures.push(`${before.accepted} of ${plan.drainEvents} accepted`)
  const redis = await startRedis(REDIS_PORT)
  const startedAt = performance.now()
  let firstAt
  let doneAt
  const deadline = Date.now() + 180_000
  while (Date.now() < deadline) {
    const length = await redis.xlen(stream)
    if (length > 0 && firstAt === undefined) firstAt = performance.now()
    if (length >= before.accepted) {
      doneAt = performance.now()
      break
    }
    await sleep(5)
  }
  let after = await server.metrics()
  while (after.pending > 0 && Date.now() < deadline) {
    await sleep(20)
    after = await server.metrics()
  }
  const delivered = await redis.xlen(stream)
  if (doneAt === undefined || after.pending > 0) failures.push(`drain incomplete: ${delivered} delivered`)
  const stored = await stopChecked(server, failures)
  if (delivered !== stored) failures.push(`${stored} stored, ${delivered} in the stream`)
  await redis.stop()
  const drainMs = (doneAt ?? performance.now()) - (firstAt ?? startedAt)
  return {
    events: before.accepted,
    delivered,
    waitMs: (firstAt ?? startedAt) - startedAt,
    drainMs,
    eventsPerS: (delivered / drainMs) * 1000,
    failures,
  }
}

/** (b) under full load for `plan.soakS` seconds: its resident memory must level off, not keep growing. */
export async function soak(plan) {
  const server = await startRelay(PORT, OPS_PORT)
  const memory = sampleMemory(server.child.pid, 1_000)
  const result = await load({
    url: server.url,
    durationS: plan.soakS,
    secret: SECRET,
    nonce: newNonce(),
    forceAutocannon: plan.forceAutocannon,
  })
  const { samples, peak } = memory.stop()
  const metrics = await server.metrics()
  const failures = []
  failures.push(...storeFailures(result, metrics, await stopChecked(server, failures)))
  const mb = (bytes) => bytes / 2 ** 20
  const window = (from, to) => {
    const rss = samples.filter((s) => s.at >= from * 1000 && s.at < to * 1000).map((s) => s.rss)
    return mb(rss.sort((x, y) => x - y)[Math.floor(rss.length / 2)] ?? 0)
  }
  const third = plan.soakS / 3
  const early = window(third / 2, third)
  const late = window(plan.soakS - third / 2, plan.soakS + 1)
  const timeline = samples.filter((_, i) => i % 15 === 0).map((s) => Math.round(mb(s.rss)))
  return { ...result, peakRss: peak, early, late, grows: late > early * 1.1 + 5, timeline, failures }
}
