import { describe, expect, test } from 'vitest'
import { CONSOLE } from '../../src/console/console-settings.js'
import { utc } from '../../src/console/format.js'
import { postWebhook, relayEvent, SECRETS, sign } from '../helpers/index.js'
import { buildConsoleApp, form, payIn } from './console-test-app.js'
import { MemoryQuarantineStore } from './memory-quarantine-store.js'

type ConsoleApp = Awaited<ReturnType<typeof buildConsoleApp>>

async function loggedIn(app: ConsoleApp) {
  const session = await app.login()
  const get = async (url: string) =>
    app.ops.inject({ method: 'GET', url, headers: { cookie: session.cookie } })
  const postForm = async (url: string, fields: Record<string, string> = { _csrf: session.csrf }) => {
    const body = form(fields)
    return app.ops.inject({
      method: 'POST',
      url,
      payload: body.payload,
      headers: { ...body.headers, cookie: session.cookie },
    })
  }
  return { get, postForm }
}

const rowsOf = (page: string) =>
  [...page.matchAll(/<a href="\/console\/events\/(evt_\w+)">/g)].map((m) => m[1])

describe('events table', () => {
  test('finds an event by its merchant order id or its Tylt order id, and by service, state and status', async () => {
    const app = await buildConsoleApp()
    await app.accept(payIn('ORD-A'))
    await app.accept(payIn('ORD-B', { status: 'Expired' }))
    const other = payIn('ORD-C')
    await postWebhook(app.app, '/webhooks/prime-upi', other, sign(SECRETS.upiCurrent, other))
    const { get } = await loggedIn(app)
    const [a] = await app.store.list({ limit: 1, order: 'ORD-A' })
    expect(rowsOf((await get('/console/events?order=ORD-A')).body)).toEqual([a!.id])
    expect(rowsOf((await get('/console/events?order=ord-ORD-A')).body)).toEqual([a!.id])
    expect(rowsOf((await get('/console/events?service=prime-upi')).body)).toHaveLength(1)
    expect(rowsOf((await get('/console/events?status=Expired')).body)).toHaveLength(1)
    expect(rowsOf((await get('/console/events?state=pending')).body)).toHaveLength(3)
    expect(rowsOf((await get('/console/events?state=dead')).body)).toEqual([])
    expect((await get('/console/events?order=nothing-like-it')).body).toContain('No event matches.')
  })

  test('filters by time range; a malformed time is said, not thrown', async () => {
    const app = await buildConsoleApp()
    await app.accept(payIn('ORD-T'))
    const { get } = await loggedIn(app)
    const hour = (offset: number) => new Date(Date.now() + offset * 3_600_000).toISOString().slice(0, 16)
    expect(rowsOf((await get(`/console/events?since=${hour(-1)}&until=${hour(1)}`)).body)).toHaveLength(1)
    expect(rowsOf((await get(`/console/events?since=${hour(1)}`)).body)).toEqual([])
    const bad = await get('/console/events?since=yesterday')
    expect(bad.statusCode).toBe(200)
    expect(bad.body).toContain('Filter ignored: since must be a date and time')
    expect(rowsOf(bad.body)).toHaveLength(1)
  })

  test('pages newest first; the older page continues where the first stopped, keeping the filters', async () => {
    const app = await buildConsoleApp()
    const total = CONSOLE.pageSize + 5
    for (let i = 0; i < total; i++) await app.accept(payIn(`ORD-P${String(i).padStart(3, '0')}`))
    const { get } = await loggedIn(app)
    const first = await get('/console/events?service=cpg')
    const firstRows = rowsOf(first.body)
    expect(firstRows).toHaveLength(CONSOLE.pageSize)
    expect(first.body.indexOf('ORD-P054')).toBeLessThan(first.body.indexOf('ORD-P053'))
    const older = /<a href="([^"]+)" rel="next">/.exec(first.body)?.[1]?.replaceAll('&amp;', '&')
    expect(older).toMatch(/service=cpg&before=\d+$/)
    const second = rowsOf((await get(older!)).body)
    expect(second).toHaveLength(5)
    expect(second.filter((id) => firstRows.includes(id))).toEqual([])
    const everyId = (await app.store.list({ limit: 1000 })).map((e) => e.id)
    expect([...firstRows, ...second]).toEqual(everyId)
  })

  test('an order id with markup is shown as text', async () => {
    const app = await buildConsoleApp()
    await app.accept(payIn('<script>alert(1)</script>'))
    const { get } = await loggedIn(app)
    const page = (await get('/console/events')).body
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(page).not.toContain('<script>alert(1)')
  })
})

describe('event page', () => {
  test('shows the metadata, the attempt history and the forwarded headers; an unknown id is 404', async () => {
    const app = await buildConsoleApp()
    await app.accept(payIn('ORD-E'))
    const [event] = await app.store.list({ limit: 1 })
    await app.store.recordFailure(event!.seq, Date.now(), 'redis://q:6379', 'Redis is not connected')
    await app.store.markRefused(event!.seq, Date.now(), 'redis://q:6379', 'refused for good')
    const { get } = await loggedIn(app)
    const page = (await get(`/console/events/${event!.id}`)).body
    expect(page).toContain('<h1>Event ORD-E</h1>')
    expect(page).toMatch(
      /<strong>failed<\/strong>[\s\S]*Redis is not connected[\s\S]*<strong>refused<\/strong>/,
    )
    for (const header of ['webhook-id', 'tylt-signature', 'tylt-merchant-order-id', 'tylt-order-id']) {
      expect(page).toContain(`<code>${header}</code>`)
    }
    expect(page).toContain(`<code>${event!.signature}</code>`)
    expect((await get('/console/events/evt_nothing')).statusCode).toBe(404)
  })

  test('personal data is masked; the reveal is a CSRF-checked POST, logged with the event id and not the data', async () => {
    const app = await buildConsoleApp()
    await app.accept(payIn('ORD-PII', { userDetails: { name: 'Asha Verma', email: 'asha@example.com' } }))
    const [event] = await app.store.list({ limit: 1 })
    const { get, postForm } = await loggedIn(app)
    const masked = (await get(`/console/events/${event!.id}`)).body
    expect(masked).not.toContain('Asha')
    expect(masked).toContain('1 value that may be personal data is masked.')
    expect((await postForm(`/console/events/${event!.id}/reveal`, {})).statusCode).toBe(403)
    expect(app.log()).not.toContain('personal data revealed')
    const revealed = await postForm(`/console/events/${event!.id}/reveal`)
    expect(revealed.statusCode).toBe(200)
    expect(revealed.headers['cache-control']).toBe('no-store')
    expect(revealed.body).toContain('Asha Verma')
    const line = app
      .log()
      .split('\n')
      .find((l) => l.includes('personal data revealed'))
    expect(JSON.parse(line!)).toMatchObject({ eventId: event!.id })
    expect(app.log()).not.toContain('Asha')
  })

  test('replaying one event queues it again, wakes the forwarder and says so on the event page', async () => {
    const app = await buildConsoleApp()
    await app.accept(payIn('ORD-R'))
    const [event] = await app.store.list({ limit: 1 })
    await app.store.markRefused(event!.seq, Date.now(), 'test', 'refused')
    const { get, postForm } = await loggedIn(app)
    const answer = await postForm(`/console/events/${event!.id}/replay`)
    expect([answer.statusCode, answer.headers.location]).toEqual([303, `/console/events/${event!.id}`])
    expect((await app.store.get(event!.id))?.state).toBe('pending')
    expect(app.woken).toHaveLength(1)
    const page = (await get(`/console/events/${event!.id}`)).body
    expect(page).toContain(`Event ${event!.id} is queued for delivery again.`)
    expect((await postForm('/console/events/evt_nothing/replay')).statusCode).toBe(404)
    expect(app.woken).toHaveLength(1)
  })
})

describe('overview', () => {
  test('shows the downstream, the queue, the last callback per service and which secret matched', async () => {
    const app = await buildConsoleApp({
      downstreams: () => [
        {
          kind: 'redis',
          target: 'redis://q:6379',
          services: null,
          up: false,
          lastProgressAt: null,
          lastError: 'ECONNREFUSED',
        },
      ],
    })
    const body = payIn('ORD-O')
    await postWebhook(app.app, '/webhooks/prime-upi', body, sign(SECRETS.upiOlder, body))
    const { get } = await loggedIn(app)
    const page = (await get('/console')).body
    expect(page).toMatch(/<code>redis:\/\/q:6379<\/code>[\s\S]*DOWN[\s\S]*ECONNREFUSED/)
    expect(page).toContain('<a href="/console/events?state=pending">1 event</a>')
    expect(page).toMatch(
      /<dt>Oldest pending<\/dt><dd id="oldest-pending">\d s \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)<\/dd>/,
    )
    expect(page).toContain('<a href="/console/events?state=dead">0 dead letters</a>')
    expect(page).not.toContain('Replay all')
    expect(page).toMatch(/prime-upi<\/a><\/td>\s*<td data-label="Last accepted">\d{4}-/)
    expect(page).toMatch(/cpg<\/a><\/td>\s*<td data-label="Last accepted">none since start/)
    expect(page).toContain('<li>older: 1 match, last 0 s ago</li>')
    expect(page).not.toContain('current: ')
    expect(page).not.toContain('Quarantine')
  })

  test('without downstream status it says so rather than guess', async () => {
    const app = await buildConsoleApp()
    const page = (await (await loggedIn(app)).get('/console')).body
    expect(page).toContain('does not report downstream status')
    expect(page).toContain('<dt>Oldest pending</dt><dd id="oldest-pending">nothing pending</dd>')
  })

  test('the last accepted callback per service stays once its event is pruned; before any, the newest kept is shown', async () => {
    const app = await buildConsoleApp()
    await app.accept(payIn('ORD-PRUNED'))
    const [accepted] = await app.store.list({ limit: 1 })
    await app.store.markDelivered([accepted!.seq], Date.now(), 'test')
    expect(await app.store.prune(Date.now() + 1)).toBe(1)
    // Accepted before this relay started: in the store only.
    const before = Date.parse('2026-11-20T10:00:00Z')
    await app.store.append(relayEvent({ id: 'evt_before_start', service: 'prime-upi', acceptedAt: before }))
    const page = (await (await loggedIn(app)).get('/console')).body
    expect(await app.store.list({ limit: 10 })).toHaveLength(1)
    const lastAccepted = (service: string) =>
      new RegExp(`${service}</a></td>\\s*<td data-label="Last accepted">([^<]*)`).exec(page)?.[1]?.trim()
    expect(lastAccepted('cpg')).toBe(utc(accepted!.acceptedAt))
    expect(lastAccepted('prime-upi')).toBe(utc(before))
  })
})

describe('quarantine', () => {
  test('without a quarantine there is no page for it', async () => {
    const app = await buildConsoleApp()
    expect((await (await loggedIn(app)).get('/console/quarantine')).statusCode).toBe(404)
  })

  test('lists quarantined requests; retry says what happened, drop removes one, drop all empties it', async () => {
    const quarantine = new MemoryQuarantineStore()
    const retried: string[] = []
    const app = await buildConsoleApp({
      quarantine,
      retryQuarantined: async (id) => {
        retried.push(id)
        return 'refused'
      },
    })
    const [a, b, c] = [
      quarantine.keep({ reason: 'mismatch' }),
      quarantine.keep({ reason: 'unknown_service', path: '/webhooks/<b>x</b>' }),
      quarantine.keep({ reason: 'missing' }),
    ]
    const { get, postForm } = await loggedIn(app)
    expect((await get('/console')).body).toContain('<a href="/console/quarantine">3 requests</a>')
    const page = (await get('/console/quarantine')).body
    expect(page).toContain('signature did not match')
    expect(page).toContain('/webhooks/&lt;b&gt;x&lt;/b&gt;')

    expect((await postForm(`/console/quarantine/${a.id}/retry`)).headers.location).toBe('/console/quarantine')
    expect(retried).toEqual([a.id])
    expect((await get('/console/quarantine')).body).toContain(`Request ${a.id} still does not verify`)

    expect((await postForm(`/console/quarantine/${b.id}/drop`, {})).statusCode).toBe(403)
    expect(quarantine.requests).toHaveLength(3)
    await postForm(`/console/quarantine/${b.id}/drop`)
    expect(quarantine.requests.map((r) => r.id)).toEqual([a.id, c.id])
    expect((await get('/console/quarantine')).body).toContain(`Request ${b.id} dropped.`)
    await postForm('/console/quarantine/drop-all')
    expect(quarantine.requests).toEqual([])
    expect((await get('/console/quarantine')).body).toContain('2 quarantined requests dropped.')
  })
})
