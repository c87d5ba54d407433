import { describe, expect, test } from 'vitest'
import { postWebhook, SECRETS, sign } from '../helpers/index.js'
import { buildConsoleApp, form, payIn, TOKEN } from './console-test-app.js'

const bearer = { authorization: `Bearer ${TOKEN}` }

/** A console whose store holds dead letters of `cpg` (CPG-DEAD-n) and of `prime-upi` (UPI-DEAD-n). */
async function withDeadLetters() {
  const app = await buildConsoleApp()
  for (const order of ['CPG-DEAD-1', 'CPG-DEAD-2']) await app.accept(payIn(order))
  const upi = payIn('UPI-DEAD-1')
  await postWebhook(app.app, '/webhooks/prime-upi', upi, sign(SECRETS.upiCurrent, upi))
  await app.accept(payIn('CPG-PENDING-1'))
  for (const event of await app.store.list({ limit: 10 })) {
    if (event.merchantOrderId?.includes('DEAD'))
      await app.store.markRefused(event.seq, Date.now(), 'test', 'no')
  }
  const get = (url: string) => app.ops.inject({ method: 'GET', url, headers: bearer })
  const post = (url: string) => app.ops.inject({ method: 'POST', url, headers: bearer })
  const deadOrders = async () =>
    (await app.store.list({ limit: 10, state: 'dead' })).map((e) => e.merchantOrderId).sort()
  return { ...app, get, post, deadOrders }
}

describe('the search box', () => {
  test('a whole order id in any case opens its event; its start lists every order so starting; nothing found lists nothing', async () => {
    const app = await buildConsoleApp()
    await app.accept(payIn('MY-ORDER-42'))
    await app.accept(payIn('MY-ORDER-43'))
    const [event] = await app.store.list({ limit: 1, order: 'MY-ORDER-42' })
    const search = async (q: string) =>
      (
        await app.ops.inject({
          method: 'GET',
          url: `/console/search?q=${encodeURIComponent(q)}`,
          headers: bearer,
        })
      ).headers.location
    expect(await search('my-order-42')).toBe(`/console/events/${event!.id}`)
    expect(await search('  ORD-my-order-42 ')).toBe(`/console/events/${event!.id}`)
    expect(await search('MY-ORD')).toBe('/console/events?order=MY-ORD')
    expect(await search('')).toBe('/console/events')
    const listed = await app.ops.inject({
      method: 'GET',
      url: '/console/api/events?order=MY-ORD',
      headers: bearer,
    })
    expect(listed.json().events.map((e: { merchantOrderId: string }) => e.merchantOrderId)).toEqual([
      'MY-ORDER-43',
      'MY-ORDER-42',
    ])
  })
})

describe('replaying the dead letters a filter matches', () => {
  test('the table counts them; the replay queues exactly those, by service or order', async () => {
    const app = await withDeadLetters()
    expect((await app.get('/console/api/events?state=dead&service=cpg')).json().dead).toBe(2)
    const page = await app.get('/console/events?state=dead&service=cpg')
    expect(page.body).toContain('Replay the 2 dead letters matching these filters')
    expect(page.body).toContain('<input type="hidden" name="service" value="cpg">')
    expect((await app.post('/console/api/dead-letters/replay?service=cpg')).json()).toEqual({
      message: '2 dead letters queued for delivery again.',
      queued: 2,
    })
    expect(await app.deadOrders()).toEqual(['UPI-DEAD-1'])
    expect(app.woken).toHaveLength(1)
  })

  test('a filter that cannot be read replays nothing rather than more', async () => {
    const app = await withDeadLetters()
    const answer = await app.post('/console/api/dead-letters/replay?service=nope')
    expect(answer.json()).toMatchObject({ queued: 0 })
    expect(answer.json().message).toContain('unknown service "nope"')
    expect(await app.deadOrders()).toEqual(['CPG-DEAD-1', 'CPG-DEAD-2', 'UPI-DEAD-1'])
  })

  test('from the page, a form post with the filters and the CSRF token; without the token it is refused', async () => {
    const app = await withDeadLetters()
    const session = await app.login()
    const send = (fields: Record<string, string>) => {
      const body = form(fields)
      return app.ops.inject({
        method: 'POST',
        url: '/console/dead-letters/replay',
        payload: body.payload,
        headers: { ...body.headers, cookie: session.cookie },
      })
    }
    expect((await send({ order: 'cpg-dead-2', state: 'dead' })).statusCode).toBe(403)
    expect(await app.deadOrders()).toEqual(['CPG-DEAD-1', 'CPG-DEAD-2', 'UPI-DEAD-1'])
    const done = await send({ order: 'cpg-dead-2', state: 'dead', _csrf: session.csrf })
    expect(done.statusCode).toBe(303)
    expect(done.headers.location).toBe('/console/events?state=dead&order=cpg-dead-2')
    expect(await app.deadOrders()).toEqual(['CPG-DEAD-1', 'UPI-DEAD-1'])
  })
})

test('the pulse changes with each acceptance', async () => {
  const app = await buildConsoleApp()
  const pulse = async () =>
    (await app.ops.inject({ method: 'GET', url: '/console/api/pulse', headers: bearer })).json()
  const before = await pulse()
  expect(before).toEqual({ pending: 0, dead: 0, oldestPendingAt: null, newestSeq: null, quarantined: null })
  await app.accept(payIn('PULSE-1'))
  expect(await pulse()).toMatchObject({ pending: 1, newestSeq: expect.any(Number) })
  expect((await app.ops.inject({ method: 'GET', url: '/console/api/pulse' })).statusCode).toBe(401)
})
