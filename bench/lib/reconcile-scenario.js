// The reconcile row: (b), the relay on its embedded store at full load, with reconcile off, on, and off again
// in the same round (a fresh relay and store each). Before each
// measured run the relay takes one `Pending` callback for each of RECONCILE.orders distinct CPG orders whose
// `expiresAt` is long past, so with reconcile on every one of them is due as soon as the ledger has folded
// it (RECONCILE_AFTER 1ms). TYLT_API_URL points at bench/lib/tylt-stand-in.js, which answers each query
// with the order still `Pending`: nothing is emitted, and the orders not yet asked about stay due.
import { newNonce, openOrderCallback } from './body.js'
import { sleep } from './proc.js'
import { onAgainstOff } from './reconcile-report.js'
import { SECRET, SERVICE, startRelay } from './relay.js'
import { measure, OPS_PORT, PORT, stopAndCount, storeFailures } from './scenarios.js'
import { API_KEY, startTyltStandIn } from './tylt-stand-in.js'

const STAND_IN_PORT = PORT + 200

export const RECONCILE = {
  interval: '1s',
  /** Open orders, all due: at the default RECONCILE_RATE (2 a second) some are still due at every stop. */
  orders: 1_000,
  fillConnections: 16,
}

/** Only RECONCILE_INTERVAL differs between the two runs: the API key and the stand-in are set in both. */
const reconcileEnv = (apiUrl, on) => ({
  [`TYLT_APIKEY_${SERVICE.toUpperCase()}`]: API_KEY,
  TYLT_API_URL: apiUrl,
  RECONCILE_INTERVAL: on ? RECONCILE.interval : '0',
  RECONCILE_AFTER: '1ms',
})

/** The reconcile settings of the run with reconcile on, BENCH_RELAY_ENV's included, for the report. */
export function reconcileSettings() {
  const extra = process.env.BENCH_RELAY_ENV ? JSON.parse(process.env.BENCH_RELAY_ENV) : {}
  const env = { ...reconcileEnv('', true), ...extra }
  return Object.entries(env)
    .filter(([name]) => name.startsWith('RECONCILE_'))
    .map(([name, value]) => `\`${name}=${value}\``)
    .join(', ')
}

/** What the ledger (its tables exist once reconcile has run) holds when the relay has stopped. */
const LEDGER_COUNTS = {
  orders: 'SELECT count(*) AS n FROM tylt_orders',
  checked: 'SELECT count(*) AS n FROM tylt_orders WHERE checks > 0',
  due: `SELECT count(*) AS n FROM tylt_orders WHERE checks = 0 AND next_check IS NOT NULL
          AND abandoned_at IS NULL`,
}

/** Sends the callbacks that open `count` orders; returns how many were not answered 200 (a 503 is retried). */
async function openOrders(url, count) {
  const nonce = newNonce()
  let next = 0
  let unanswered = 0
  const sender = async () => {
    while (next < count) {
      const { body, signature } = openOrderCallback(SECRET, nonce, ++next)
      for (let attempt = 1; ; attempt++) {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-tlp-signature': signature },
          body,
          signal: AbortSignal.timeout(10_000),
        })
        await response.arrayBuffer()
        if (response.status === 200) break
        if (response.status !== 503 || attempt === 3) {
          unanswered++
          break
        }
        await sleep(100)
      }
    }
  }
  await Promise.all(Array.from({ length: RECONCILE.fillConnections }, sender))
  return unanswered
}

/** One relay, reconcile `on` or off: open orders, warm-up, measured run, then the checks. */
async function oneRun(plan, standIn, on, orders) {
  const atStart = await standIn.counts()
  const server = await startRelay(PORT, OPS_PORT, { env: reconcileEnv(standIn.url, on) })
  const failures = []
  const unanswered = await openOrders(server.url, orders)
  if (unanswered > 0) failures.push(`${unanswered} of ${orders} open-order callbacks not answered 200`)
  let before
  const result = await measure(server, plan, {
    beforeRun: async () => {
      before = { standIn: await standIn.counts(), relay: await server.metrics() }
    },
  })
  const after = { standIn: await standIn.counts(), relay: await server.metrics() }
  await sleep(200)
  const metrics = await server.metrics()
  const counted = await stopAndCount(server, failures, on ? LEDGER_COUNTS : {})
  const atEnd = await standIn.counts()
  failures.push(...storeFailures(result, metrics, counted.stored))
  if (metrics.pending !== 0) failures.push(`${metrics.pending} pending with no downstream`)
  const asked = atEnd.answered + atEnd.refused - atStart.answered - atStart.refused
  const refused = atEnd.refused - atStart.refused
  const run = {
    ...result,
    metrics,
    // Queries the stand-in answered during the measured run, and what the relay counted as `ok` meanwhile.
    queries: after.standIn.answered - before.standIn.answered,
    relayQueries: after.relay.reconcileOk - before.relay.reconcileOk,
    asked,
    ledger: counted,
    failures,
  }
  if (!on) {
    if (asked > 0) failures.push(`reconcile off, yet the Tylt stand-in was asked ${asked} times`)
    return run
  }
  if (refused > 0) failures.push(`the Tylt stand-in refused ${refused} queries (API key or signature)`)
  if (run.queries === 0)
    failures.push('reconcile asked the Tylt stand-in nothing during the measured run, with orders due')
  if (metrics.reconcileEmitted > 0)
    failures.push(`reconcile emitted ${metrics.reconcileEmitted} events for orders whose state had not moved`)
  return run
}

/** `reconcile`: one round of off, on and off again, each a fresh relay and store, and their ratios. */
export async function reconcileOnOff(plan) {
  const label = 'reconcile on / off, embedded store'
  const orders = RECONCILE.orders
  const standIn = await startTyltStandIn(STAND_IN_PORT, SECRET)
  const runs = []
  try {
    for (const on of [false, true, false]) {
      runs.push(await oneRun(plan, standIn, on, orders))
      await sleep(500)
    }
  } finally {
    await standIn.stop()
  }
  const [off, on, offAgain] = runs
  return {
    ...on,
    label,
    on,
    off,
    offAgain,
    orders,
    ...onAgainstOff(off, on, offAgain),
    overloaded: off.overloaded + on.overloaded + offAgain.overloaded,
    failures: [
      ...off.failures.map((f) => `off: ${f}`),
      ...on.failures.map((f) => `on: ${f}`),
      ...offAgain.failures.map((f) => `off again: ${f}`),
    ],
  }
}
