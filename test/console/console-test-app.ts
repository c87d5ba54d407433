import { createSecretKey } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import pino from 'pino'
import { onTestFinished } from 'vitest'
import { type ConsoleDeps, consoleMount } from '../../src/console/console-deps.js'
import { createMetrics } from '../../src/ops/metrics.js'
import { buildOpsApp } from '../../src/ops/ops-app.js'
import { GroupCommitStore } from '../../src/store/group-commit-store.js'
import { buildTestApp, postWebhook, SECRETS, sign } from '../helpers/index.js'
import { MemoryQuarantineStore } from './memory-quarantine-store.js'

export const TOKEN = 'console-test-token-5be1c0d9a7'

/** A webhook app and an ops app with the console over one real store; every log line is kept. */
export async function buildConsoleApp(deps: Partial<ConsoleDeps> = {}, token: string | null = TOKEN) {
  const lines: string[] = []
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk))
        done()
      },
    }),
  )
  // Shared by the webhook app and the console, as the server does.
  const lastAccepted = new Map<string, number>()
  const relay = await buildTestApp({}, logger, {
    onAccepted: (service, acceptedAt) => lastAccepted.set(service, acceptedAt),
  })
  const woken: number[] = []
  const ops = buildOpsApp({
    logger,
    store: relay.store,
    metrics: relay.metrics,
    console:
      token === null
        ? undefined
        : consoleMount({
            token: createSecretKey(Buffer.from(token)),
            store: relay.store,
            services: relay.config.services.map((s) => s.name),
            registry: relay.metrics.registry,
            lastAccepted,
            wake: () => woken.push(Date.now()),
            ...deps,
          }),
  })
  onTestFinished(() => ops.close())
  /** Accepts a callback for `cpg` through the webhook route. */
  const accept = async (body: string) => {
    const answer = await postWebhook(relay.app, '/webhooks/cpg', body, sign(SECRETS.cpg, body))
    if (answer.body !== 'ok') throw new Error(`not accepted: ${answer.body}`)
  }
  /** Logs in through the form; returns the cookie header and the page's CSRF token. */
  const login = async () => {
    const answer = await ops.inject({
      method: 'POST',
      url: '/console/login',
      payload: new URLSearchParams({ token: TOKEN }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    if (answer.statusCode !== 303) throw new Error(`login failed: ${answer.statusCode}`)
    const cookie = String(answer.headers['set-cookie']).split(';')[0]!
    const page = await ops.inject({ method: 'GET', url: '/console', headers: { cookie } })
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1]
    if (csrf === undefined) throw new Error('no CSRF token on the overview')
    return { cookie, csrf }
  }
  const log = () => lines.join('')
  return { ...relay, ops, accept, login, log, woken }
}

/** A form post, as a browser sends it. */
export const form = (fields: Record<string, string>) => ({
  payload: new URLSearchParams(fields).toString(),
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
})

/** A pay-in callback with this merchant order id and anything else in its data. */
export function payIn(merchantOrderId: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    type: 'pay-in',
    data: {
      orderId: `ord-${merchantOrderId}`,
      merchantOrderId,
      status: 'Completed',
      baseAmount: 12.5,
      ...extra,
    },
  })
}

/**
 * Every POST route the console registers, as the ops app mounts it with every optional part (the quarantine
 * and its retry): read from Fastify's routes, so that a route added later is on the list without anyone
 * adding it. Runs outside a test (a test.each needs the list while the file is collected).
 */
export async function consolePostRoutes(): Promise<string[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tylt-relay-routes-'))
  const store = new GroupCommitStore(dataDir)
  const metrics = createMetrics({ stats: () => store.stats() })
  const ops = buildOpsApp({
    logger: pino({ level: 'silent' }),
    store,
    metrics,
    console: consoleMount({
      token: createSecretKey(Buffer.from(TOKEN)),
      store,
      services: ['cpg'],
      quarantine: new MemoryQuarantineStore(),
      retryQuarantined: async () => 'missing',
    }),
  })
  const routes: string[] = []
  // The console's plugin is loaded by ready(), so it registers its routes after this hook is in place.
  ops.addHook('onRoute', (route) => {
    if ([route.method].flat().includes('POST')) routes.push(route.url)
  })
  try {
    await ops.ready()
  } finally {
    await ops.close()
    await store.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
  return routes
}
