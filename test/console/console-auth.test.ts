import { describe, expect, test } from 'vitest'
import { buildConsoleApp, consolePostRoutes, form, payIn, TOKEN } from './console-test-app.js'
import { MemoryQuarantineStore } from './memory-quarantine-store.js'

/** Every state-changing route but the login, which carries the token itself (refused from another origin). */
const ACTIONS = (await consolePostRoutes()).filter((url) => url !== '/console/login')

describe('the console is off without OPS_TOKEN', () => {
  test.each(['/console', '/console/login', '/console/events', '/console/assets/console.js'])(
    'GET %s is 404',
    async (url) => {
      const { ops } = await buildConsoleApp({}, null)
      const answer = await ops.inject({ method: 'GET', url })
      expect([answer.statusCode, answer.body]).toEqual([404, 'not found'])
    },
  )

  test('POST /console/login is 404 too, and /healthz still answers', async () => {
    const { ops } = await buildConsoleApp({}, null)
    expect(
      (await ops.inject({ method: 'POST', url: '/console/login', ...form({ token: TOKEN }) })).statusCode,
    ).toBe(404)
    expect((await ops.inject({ method: 'GET', url: '/healthz' })).body).toBe('ok')
  })
})

describe('logging in', () => {
  test('a page without a session sends the browser to the login form', async () => {
    const { ops } = await buildConsoleApp()
    const answer = await ops.inject({ method: 'GET', url: '/console/events' })
    expect([answer.statusCode, answer.headers.location]).toEqual([303, '/console/login'])
  })

  test('the wrong token is refused: no cookie, and the token is not logged', async () => {
    const { ops, log } = await buildConsoleApp()
    const wrong = 'console-test-token-5be1c0d9a8'
    const answer = await ops.inject({ method: 'POST', url: '/console/login', ...form({ token: wrong }) })
    expect(answer.statusCode).toBe(401)
    expect(answer.headers['set-cookie']).toBeUndefined()
    expect(answer.body).toContain('not the console')
    expect(log()).toContain('login refused')
    expect(log()).not.toContain(wrong)
  })

  test('the right token sets an HttpOnly, SameSite=Strict session cookie that is not the token', async () => {
    const { ops, log } = await buildConsoleApp()
    const answer = await ops.inject({ method: 'POST', url: '/console/login', ...form({ token: TOKEN }) })
    expect([answer.statusCode, answer.headers.location]).toEqual([303, '/console'])
    const cookie = String(answer.headers['set-cookie'])
    expect(cookie).toMatch(/^tylt_console=[\w-]{43}; Path=\/console; Max-Age=\d+; HttpOnly; SameSite=Strict$/)
    expect(cookie).not.toContain(TOKEN)
    const page = await ops.inject({
      method: 'GET',
      url: '/console',
      headers: { cookie: cookie.split(';')[0]! },
    })
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain('<h1>Overview</h1>')
    expect(log()).not.toContain(TOKEN)
  })

  test('a made-up session cookie is not a session', async () => {
    const { ops } = await buildConsoleApp()
    const answer = await ops.inject({
      method: 'GET',
      url: '/console',
      headers: { cookie: `tylt_console=${TOKEN}` },
    })
    expect(answer.statusCode).toBe(303)
  })

  test('a login form posted from another origin is refused even with the right token', async () => {
    const { ops } = await buildConsoleApp()
    const post = form({ token: TOKEN })
    const answer = await ops.inject({
      method: 'POST',
      url: '/console/login',
      payload: post.payload,
      headers: { ...post.headers, origin: 'http://evil.example' },
    })
    expect(answer.statusCode).toBe(401)
    expect(answer.headers['set-cookie']).toBeUndefined()
  })

  test('logging out ends the session', async () => {
    const { ops, login } = await buildConsoleApp()
    const { cookie, csrf } = await login()
    const out = await ops.inject({
      method: 'POST',
      url: '/console/logout',
      ...withCookie(form({ _csrf: csrf }), cookie),
    })
    expect([out.statusCode, out.headers.location]).toEqual([303, '/console/login'])
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0')
    expect((await ops.inject({ method: 'GET', url: '/console', headers: { cookie } })).statusCode).toBe(303)
  })
})

describe('scripts with Authorization: Bearer', () => {
  test('the right token reads pages and acts without a CSRF token; the answer says what happened', async () => {
    const { ops, accept, store } = await buildConsoleApp()
    await accept(payIn('BEARER-1'))
    const [event] = await store.list({ limit: 1 })
    await store.markRefused(event!.seq, Date.now(), 'test', 'refused')
    const headers = { authorization: `Bearer ${TOKEN}` }
    expect(
      (await ops.inject({ method: 'GET', url: '/console/events?order=BEARER-1', headers })).body,
    ).toContain('BEARER-1')
    const replay = await ops.inject({ method: 'POST', url: '/console/dead-letters/replay', headers })
    expect([replay.statusCode, replay.body]).toEqual([200, '1 dead letter queued for delivery again.'])
    expect((await store.stats()).dead).toBe(0)
  })

  test('a wrong bearer token is 401, even with a valid session cookie beside it', async () => {
    const { ops, login } = await buildConsoleApp()
    const { cookie } = await login()
    const answer = await ops.inject({
      method: 'GET',
      url: '/console',
      headers: { authorization: 'Bearer not-the-token-at-all', cookie },
    })
    expect(answer.statusCode).toBe(401)
  })
})

describe('form posts carry the CSRF token', () => {
  async function withDeadLetter() {
    const app = await buildConsoleApp()
    await app.accept(payIn('CSRF-1'))
    const [event] = await app.store.list({ limit: 1 })
    await app.store.markRefused(event!.seq, Date.now(), 'test', 'refused')
    return { ...app, session: await app.login() }
  }

  test.each([
    ['without the token', {}, {}],
    ['with a wrong token', { _csrf: 'x'.repeat(43) }, {}],
    ['with the token but from another origin', 'valid', { origin: 'http://127.0.0.1:1' }],
    ['with the token but marked cross-site', 'valid', { 'sec-fetch-site': 'same-site' }],
  ] as const)('a POST %s is refused and changes nothing', async (_name, fields, extra) => {
    const { ops, store, session, woken } = await withDeadLetter()
    const body = fields === 'valid' ? { _csrf: session.csrf } : fields
    const post = form(body)
    const answer = await ops.inject({
      method: 'POST',
      url: '/console/dead-letters/replay',
      payload: post.payload,
      headers: { ...post.headers, ...extra, cookie: session.cookie },
    })
    expect(answer.statusCode).toBe(403)
    expect((await store.stats()).dead).toBe(1)
    expect(woken).toEqual([])
  })

  test('the routes checked below are read from the app, and include every action the console has today', () => {
    expect(ACTIONS).toEqual(
      expect.arrayContaining([
        '/console/logout',
        '/console/events/:id/reveal',
        '/console/events/:id/replay',
        '/console/dead-letters/replay',
        '/console/quarantine/:id/retry',
        '/console/quarantine/:id/drop',
        '/console/quarantine/drop-all',
      ]),
    )
  })

  test.each(ACTIONS)(
    'POST %s with a valid session cookie but no CSRF token is 403 and changes nothing',
    async (route) => {
      const quarantine = new MemoryQuarantineStore()
      const retried: string[] = []
      const app = await buildConsoleApp({
        quarantine,
        retryQuarantined: async (id) => {
          retried.push(id)
          return 'accepted'
        },
      })
      await app.accept(payIn('CSRF-EVERY', { userDetails: { name: 'Asha Verma' } }))
      const [event] = await app.store.list({ limit: 1 })
      await app.store.markRefused(event!.seq, Date.now(), 'test', 'refused')
      const kept = quarantine.keep({ reason: 'mismatch' })
      const session = await app.login()
      const url = route.replace(':id', route.startsWith('/console/quarantine/') ? kept.id : event!.id)
      expect(url).not.toContain(':')
      const state = async () => ({
        event: await app.store.get(event!.id),
        stats: await app.store.stats(),
        quarantined: quarantine.requests.map((r) => r.id),
      })
      const before = await state()

      const answer = await app.ops.inject({ method: 'POST', url, ...withCookie(form({}), session.cookie) })
      expect([answer.statusCode, answer.body]).toEqual([
        403,
        'refused: this form did not come from the console',
      ])
      expect(await state()).toEqual(before)
      expect([retried, app.woken]).toEqual([[], []])
      expect(app.log()).not.toContain('personal data revealed')
      expect(answer.body).not.toContain('Asha')
      // Still logged in (logout did not happen), and no action left a message to show.
      const overview = await app.ops.inject({
        method: 'GET',
        url: '/console',
        headers: { cookie: session.cookie },
      })
      expect(overview.statusCode).toBe(200)
      expect(overview.body).not.toContain('role="status"')
    },
  )

  test('with the token, from the console itself, the POST acts and redirects to a page that says so', async () => {
    const { ops, store, session, woken } = await withDeadLetter()
    const post = form({ _csrf: session.csrf })
    const answer = await ops.inject({
      method: 'POST',
      url: '/console/dead-letters/replay',
      payload: post.payload,
      headers: {
        ...post.headers,
        cookie: session.cookie,
        origin: 'http://localhost:80',
        host: 'localhost:80',
      },
    })
    expect([answer.statusCode, answer.headers.location]).toEqual([303, '/console'])
    expect((await store.stats()).dead).toBe(0)
    expect(woken).toHaveLength(1)
    const page = await ops.inject({ method: 'GET', url: '/console', headers: { cookie: session.cookie } })
    expect(page.body).toContain('1 dead letter queued for delivery again.')
    // Shown once.
    const again = await ops.inject({ method: 'GET', url: '/console', headers: { cookie: session.cookie } })
    expect(again.body).not.toContain('queued for delivery again')
  })
})

test('pages forbid framing, inline script and caching; assets come from the relay', async () => {
  const { ops, login } = await buildConsoleApp()
  const { cookie } = await login()
  const page = await ops.inject({ method: 'GET', url: '/console', headers: { cookie } })
  expect(page.headers['content-security-policy']).toContain("script-src 'self'")
  expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'")
  expect(page.headers['content-security-policy']).not.toContain('unsafe-inline')
  expect(page.headers['x-frame-options']).toBe('DENY')
  expect(page.headers['cache-control']).toBe('no-store')
  expect(page.body).not.toMatch(/<script>|<script [^>]*>[^<]|https?:\/\//)
  for (const asset of ['/console/assets/console.css', '/console/assets/console.js']) {
    expect((await ops.inject({ method: 'GET', url: asset })).statusCode).toBe(200)
  }
})

function withCookie(post: ReturnType<typeof form>, cookie: string) {
  return { payload: post.payload, headers: { ...post.headers, cookie } }
}
