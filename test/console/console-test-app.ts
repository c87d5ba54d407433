import { createSecretKey } from 'node:crypto'
import { Writable } from 'node:stream'
import pino from 'pino'
import { onTestFinished } from 'vitest'
import type { ConsoleDeps } from '../../src/console/console-deps.js'
import { buildOpsApp } from '../../src/ops/ops-app.js'
import { buildTestApp, postWebhook, SECRETS, sign } from '../helper.js'

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
  const relay = await buildTestApp({}, logger, { lastAccepted })
  const woken: number[] = []
  const ops = buildOpsApp({
    logger,
    store: relay.store,
    metrics: relay.metrics,
    console:
      token === null
        ? undefined
        : {
            token: createSecretKey(Buffer.from(token)),
            store: relay.store,
            services: relay.config.services.map((s) => s.name),
            registry: relay.metrics.registry,
            lastAccepted,
            wake: () => woken.push(Date.now()),
            ...deps,
          },
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
