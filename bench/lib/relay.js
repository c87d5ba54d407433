// Starting the relay (dist/cli.js serve) and the baseline on the server core, and reading the relay's metrics.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { assertPortsFree, start, stop, TMPFS, tempFolder, waitUntil } from './proc.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
export const SERVER_CORE = 0
export const SECRET = 'bench-secret-5e1f0c'
export const SERVICE = 'bench'

const get = (url) => fetch(url, { signal: AbortSignal.timeout(2_000) })

/**
 * How the bare node:http server of baseline.js, or a reference server (reference.js, durable-limit.js) with
 * its `env`, is started: a fresh temporary folder (its DATA_DIR; on TMPFS with `tmpfs`), the command line and
 * its environment.
 */
export function baselineCommand(port, script = join(root, 'bench', 'baseline.js'), env = {}, tmpfs = false) {
  const dir = tempFolder(undefined, tmpfs ? TMPFS : undefined)
  return {
    dir,
    logFile: join(dir, 'baseline.log'),
    command: process.execPath,
    args: [script],
    env: { PORT: String(port), BENCH_SECRET: SECRET, DATA_DIR: dir, ...env },
  }
}

/** The bare node:http server of baseline.js, or a reference server, started and answering. */
export async function startBaseline(port, script, env, { tmpfs = false } = {}) {
  await assertPortsFree(port)
  const { dir, logFile, command, args, env: childEnv } = baselineCommand(port, script, env, tmpfs)
  const child = start(command, args, { core: SERVER_CORE, env: childEnv, logFile })
  await waitUntil('baseline', async () => (await get(`http://127.0.0.1:${port}/`)).status > 0, {
    child,
    logFile,
  })
  return { child, dir, logFile, url: `http://127.0.0.1:${port}/webhooks/${SERVICE}`, stop: () => stop(child) }
}

/** The node flags of dist/cli.js's first line, which `npm start` and the Dockerfile's CMD pass too. */
const RELAY_NODE_FLAGS = readFileSync(join(root, 'src', 'cli.ts'), 'utf8')
  .split('\n', 1)[0]
  .replace(/^#!\/usr\/bin\/env -S node\s*/, '')
  .split(' ')
  .filter(Boolean)

/**
 * How tylt-relay is started as users run it: `node FLAGS dist/cli.js serve`, logging at info to a file, its
 * store in a fresh temporary DATA_DIR, the working directory there too so that no project `.env` leaks in.
 * `env` adds or replaces variables for one scenario; `tmpfs` puts the folder on TMPFS; `cli` runs another
 * build's dist/cli.js (`--before`). Returns the folder, the command line and environment.
 */
export function relayCommand(
  port,
  opsPort,
  { forwardUrl, storeUrl, env: extra = {}, tmpfs = false, cli } = {},
) {
  const dir = tempFolder(undefined, tmpfs ? TMPFS : undefined)
  const env = {
    [`TYLT_SECRET_${SERVICE.toUpperCase()}`]: SECRET,
    DATA_DIR: join(dir, 'data'),
    HOST: '127.0.0.1',
    PORT: String(port),
    OPS_HOST: '127.0.0.1',
    OPS_PORT: String(opsPort),
    LOG_LEVEL: 'info',
    SHUTDOWN_GRACE: '5s',
    ...(forwardUrl ? { FORWARD_URL: forwardUrl } : {}),
    ...(storeUrl ? { STORE_URL: storeUrl } : {}),
    // Scenario settings (more services, other limits), applied after the defaults above.
    ...extra,
    // BENCH_RELAY_ENV: extra settings as JSON, e.g. '{"LOG_LEVEL":"warn"}', for profiling sessions.
    ...(process.env.BENCH_RELAY_ENV ? JSON.parse(process.env.BENCH_RELAY_ENV) : {}),
  }
  delete env.NODE_OPTIONS
  // BENCH_NODE_FLAGS (e.g. --cpu-prof) and BENCH_RELAY_CLI (another build, for A/B comparisons) are for
  // profiling sessions; `npm run bench` uses neither.
  const flags = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []
  const script = cli ?? process.env.BENCH_RELAY_CLI ?? join(root, 'dist', 'cli.js')
  return {
    dir,
    logFile: join(dir, 'relay.log'),
    command: process.execPath,
    args: [...RELAY_NODE_FLAGS, ...flags, script, 'serve'],
    env,
    cwd: dir,
  }
}

/** tylt-relay (see relayCommand) started and ready: its ops port answers `/readyz` with 200. */
export async function startRelay(port, opsPort, options = {}) {
  await assertPortsFree(port, opsPort)
  const { dir, logFile, command, args, env, cwd } = relayCommand(port, opsPort, options)
  const child = start(command, args, { core: SERVER_CORE, env, cwd, logFile })
  const ops = `http://127.0.0.1:${opsPort}`
  await waitUntil('tylt-relay', async () => (await get(`${ops}/readyz`)).status === 200, { child, logFile })
  return {
    child,
    dir,
    dataDir: options.storeUrl ? undefined : env.DATA_DIR,
    logFile,
    url: `http://127.0.0.1:${port}/webhooks/${SERVICE}`,
    metrics: () => readMetrics(ops),
    stop: () => stop(child),
  }
}

/** The relay's counters that the bench checks: requests by outcome, pending events, reconcile's requests. */
export async function readMetrics(ops) {
  const text = await (await get(`${ops}/metrics`)).text()
  const value = (pattern) => {
    let sum = 0
    for (const line of text.split('\n'))
      if (pattern.test(line)) sum += Number(line.slice(line.lastIndexOf(' ') + 1))
    return sum
  }
  return {
    accepted: value(/^tylt_relay_webhook_requests_total\{.*outcome="accepted"/),
    overloaded: value(/^tylt_relay_webhook_requests_total\{.*outcome="overloaded"/),
    duplicate: value(/^tylt_relay_webhook_requests_total\{.*outcome="duplicate"/),
    refused: value(/^tylt_relay_webhook_requests_total\{(?!.*outcome="(accepted|duplicate)")/),
    pending: value(/^tylt_relay_pending_events /),
    storeUp: value(/^tylt_relay_store_up /),
    quarantineBytes: value(/^tylt_relay_quarantine_bytes /),
    quarantineRequests: value(/^tylt_relay_quarantine_requests /),
    reconcileRequests: value(/^tylt_relay_reconcile_requests_total\{/),
    reconcileOk: value(/^tylt_relay_reconcile_requests_total\{.*outcome="ok"/),
    reconcileEmitted: value(/^tylt_relay_reconcile_emitted_total\{/),
  }
}
