import { createSecretKey } from 'node:crypto'
import pino from 'pino'
import { describe, expect, it, onTestFinished } from 'vitest'
import { consoleMount } from '../../src/console/console-deps.js'
import { buildOpsApp } from '../../src/ops/ops-app.js'
import { checkNow } from '../../src/reconcile/check-now.js'
import { API_KEYS, reconcileEnv, reconcileRig, standIn } from '../reconcile/reconcile-helpers.js'
import type { TyltStandIn } from '../support/tylt-stand-in.js'
import { form, TOKEN } from './console-test-app.js'

/** A relay app over a temp store with the console's Orders screen, reconcile pointed at the stand-in. */
async function ordersConsole(stand: TyltStandIn, without: readonly string[] = []) {
  const env = Object.entries(reconcileEnv(stand)).filter(([name]) => !without.includes(name))
  const rig = await reconcileRig(Object.fromEntries(env))
  const reconciler = rig.reconciler()
  const { config, store } = rig.test
  const ops = buildOpsApp({
    logger: pino({ level: 'silent' }),
    store,
    metrics: rig.test.metrics,
    console: consoleMount({
      token: createSecretKey(Buffer.from(TOKEN)),
      store,
      services: config.services.map((s) => s.name),
      orders: {
        ledger: async () => {
          await rig.ledger.catchUp(config.reconcile.afterMs)
          return rig.ledger
        },
        checkable: config.reconcile.targets.map((t) => t.service),
        checkNow: (order) => checkNow(reconciler, order),
      },
    }),
  })
  onTestFinished(() => ops.close())
  const login = async () => {
    const answer = await ops.inject({ method: 'POST', url: '/console/login', ...form({ token: TOKEN }) })
    const cookie = String(answer.headers['set-cookie']).split(';')[0]!
    const page = await ops.inject({ method: 'GET', url: '/console/orders', headers: { cookie } })
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!
    return { cookie, csrf }
  }
  const api = async (url: string, method: 'GET' | 'POST' = 'GET') => {
    const answer = await ops.inject({ method, url, headers: { authorization: `Bearer ${TOKEN}` } })
    return { status: answer.statusCode, body: answer.json() as Record<string, unknown> }
  }
  return { rig, ops, login, api }
}

const pathOf = (service: string, product: string, key: string) => `/orders/${service}/${product}/${key}`

describe('"check now" on an order of the console', () => {
  it('asks Tylt under the CSRF check, stores the state Tylt moved the order to, and shows it with its source', async () => {
    const stand = await standIn()
    const c = await ordersConsole(stand)
    const key = stand.addOrder('cpg', 'cpg-pay-in', 'Pending', { merchantOrderId: 'CHECK-1' })
    await c.rig.deliver(stand, key)
    stand.move(key, 'Completed')
    const order = pathOf('cpg', 'cpg-pay-in', key)
    const { cookie, csrf } = await c.login()

    const page = await c.ops.inject({ method: 'GET', url: `/console${order}`, headers: { cookie } })
    expect(page.body).toContain(`action="/console${order}/check"`)
    const forged = await c.ops.inject({
      method: 'POST',
      url: `/console${order}/check`,
      headers: { cookie, ...form({}).headers },
      payload: form({}).payload,
    })
    expect(forged.statusCode).toBe(403)
    expect(stand.requests).toEqual([])

    const posted = await c.ops.inject({
      method: 'POST',
      url: `/console${order}/check`,
      headers: { cookie, ...form({ _csrf: csrf }).headers },
      payload: form({ _csrf: csrf }).payload,
    })
    expect([posted.statusCode, posted.headers.location]).toEqual([303, `/console${order}`])
    const after = await c.ops.inject({ method: 'GET', url: `/console${order}`, headers: { cookie } })
    expect(after.body).toContain(
      `Order ${key}: Tylt says Completed; the new state was stored and is queued for delivery.`,
    )
    expect(stand.requests).toHaveLength(1)

    const json = await c.api(`/console/api${order}`)
    expect(json.status).toBe(200)
    expect(json.body).toMatchObject({
      order: { orderKey: key, status: 'Completed', source: 'reconcile', final: 'true', nextCheck: null },
      cannotCheck: null,
    })
    expect(
      (json.body.history as { status: string; source: string }[]).map((s) => [s.status, s.source]),
    ).toEqual([
      ['Pending', 'callback'],
      ['Completed', 'reconcile'],
    ])
    // Asked again, Tylt says the same: nothing new is stored.
    const again = await c.api(`/console/api${order}/check`, 'POST')
    expect(again.body).toMatchObject({ action: 'unchanged', current: 'Completed' })
    expect(await c.rig.test.store.list({ limit: 10 })).toHaveLength(2)
  })

  it('names the service, never the key, when Tylt cannot be asked', async () => {
    const stand = await standIn()
    const c = await ordersConsole(stand)
    const key = stand.addOrder('cpg', 'cpg-pay-in', 'Pending')
    await c.rig.deliver(stand, key)
    stand.fail({ service: 'cpg', status: 503, times: 10 })
    const answer = await c.api(`/console/api${pathOf('cpg', 'cpg-pay-in', key)}/check`, 'POST')
    expect(answer.status).toBe(200)
    expect(answer.body.action).toBe('error')
    expect(answer.body.message).toMatch(
      new RegExp(`^Order ${key} not checked: Tylt could not be asked for service cpg`),
    )
    expect(JSON.stringify(answer.body)).not.toContain(API_KEYS.cpg)
    expect(await c.rig.test.store.list({ limit: 10 })).toHaveLength(1)
  })

  it('offers no "check now" for a service without an API key, and says why', async () => {
    const stand = await standIn()
    const c = await ordersConsole(stand, ['TYLT_APIKEY_PRIME_UPI'])
    const key = stand.addOrder('prime-upi', 'upi', 2)
    await c.rig.deliver(stand, key, 'prime-upi')
    const order = pathOf('prime-upi', 'upi', key)
    const { cookie } = await c.login()
    const page = await c.ops.inject({ method: 'GET', url: `/console${order}`, headers: { cookie } })
    expect(page.statusCode).toBe(200)
    expect(page.body).not.toContain('Check now')
    expect(page.body).toContain(
      'Not checked from here: reconcile is not configured for service prime-upi (no API key: TYLT_APIKEY_&lt;NAME&gt;).',
    )
    const posted = await c.api(`/console/api${order}/check`, 'POST')
    expect(posted.body).toMatchObject({ action: 'skipped' })
    expect(stand.requests).toEqual([])
  })
})
