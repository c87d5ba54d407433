import { describe, expect, it } from 'vitest'
import type { RefusedRequest } from '../../src/core/quarantine-store.js'
import { fixture } from '../helpers/fixtures.js'
import { buildTestApp, postWebhook, SECRETS, sign } from '../helpers/index.js'

const body = fixture('cpg-pay-in.json')
const signature = sign(SECRETS.cpg, body)

describe('whatever Content-Type a signed callback carries, it is accepted', () => {
  it.each([
    ['an empty Content-Type header', ''],
    ['a list of types', 'application/json, text/plain'],
    ['a type with a broken parameter', 'application/json; charset'],
  ])('%s: 200 ok, the exact bytes stored', async (_name, type) => {
    const { app, stored } = await buildTestApp()
    const res = await app.inject({
      method: 'POST',
      url: '/webhooks/cpg',
      headers: { 'content-type': type, 'x-tlp-signature': signature },
      payload: body,
    })
    expect([res.statusCode, res.body]).toEqual([200, 'ok'])
    expect(stored().map((e) => Buffer.from(e.body).equals(body))).toEqual([true])
  })

  it('the quarantine still sees the Content-Type the request carried', async () => {
    const seen: RefusedRequest[] = []
    const { app } = await buildTestApp({}, undefined, { quarantine: { refused: (r) => void seen.push(r) } })
    const res = await app.inject({
      method: 'POST',
      url: '/webhooks/cpg',
      headers: { 'content-type': 'application/json, text/plain', 'x-tlp-signature': sign('wrong', body) },
      payload: body,
    })
    expect(res.statusCode).toBe(401)
    expect(seen.map((r) => r.contentType)).toEqual(['application/json, text/plain'])
  })
})

describe('paths', () => {
  it.each([
    ['a trailing slash', '/webhooks/cpg/'],
    ['upper case', '/webhooks/CPG'],
    ['mixed case and a trailing slash', '/webhooks/Cpg/'],
  ])('%s reaches service cpg', async (_name, url) => {
    const { app, stored } = await buildTestApp()
    const res = await postWebhook(app, url, body, signature)
    expect([res.statusCode, res.body]).toEqual([200, 'ok'])
    expect(stored().map((e) => e.service)).toEqual(['cpg'])
  })

  it('POST /webhooks/ (trailing slash) tries every service like POST /webhooks', async () => {
    const { app, stored } = await buildTestApp()
    const res = await postWebhook(app, '/webhooks/', body, sign(SECRETS.upiOlder, body))
    expect([res.statusCode, res.body]).toEqual([200, 'ok'])
    expect(stored().map((e) => e.service)).toEqual(['prime-upi'])
  })

  it('a service name of exactly 100 characters is served', async () => {
    const name = 'a'.repeat(100)
    const { app, stored } = await buildTestApp({
      [`TYLT_SECRET_${name.toUpperCase()}`]: 'long-name-secret-3f1e',
    })
    const res = await postWebhook(app, `/webhooks/${name}`, body, sign('long-name-secret-3f1e', body))
    expect([res.statusCode, res.body]).toEqual([200, 'ok'])
    expect(stored().map((e) => e.service)).toEqual([name])
  })

  it('a path segment over 100 characters is an unknown service: plain-text 404, not a JSON 414', async () => {
    const { app, stored } = await buildTestApp()
    const res = await postWebhook(app, `/webhooks/${'b'.repeat(101)}`, body, signature)
    expect([res.statusCode, res.headers['content-type'], res.body]).toEqual([
      404,
      'text/plain; charset=utf-8',
      'not found',
    ])
    expect(stored()).toEqual([])
  })

  it.each([['/webhooks/%E0%A4%A'], ['/webhooks/cp%g']])(
    'bad percent-encoding (%s): plain-text 400',
    async (url) => {
      const { app, stored } = await buildTestApp()
      const res = await postWebhook(app, url, body, signature)
      expect([res.statusCode, res.headers['content-type'], res.body]).toEqual([
        400,
        'text/plain; charset=utf-8',
        'bad request: invalid percent-encoding in the path',
      ])
      expect(stored()).toEqual([])
    },
  )
})

describe('the tylt-relay-outcome header', () => {
  it('says accepted for a new event and duplicate for a re-send; the body stays ok', async () => {
    const { app, stored } = await buildTestApp()
    const first = await postWebhook(app, '/webhooks/cpg', body, signature)
    const again = await postWebhook(app, '/webhooks', body, signature)
    expect([first.statusCode, first.headers['tylt-relay-outcome'], first.body]).toEqual([
      200,
      'accepted',
      'ok',
    ])
    expect([again.statusCode, again.headers['tylt-relay-outcome'], again.body]).toEqual([
      200,
      'duplicate',
      'ok',
    ])
    expect(stored()).toHaveLength(1)
  })

  it('is absent from refusals', async () => {
    const { app } = await buildTestApp()
    const res = await postWebhook(app, '/webhooks/cpg', body, sign('wrong', body))
    expect(res.statusCode).toBe(401)
    expect(res.headers['tylt-relay-outcome']).toBeUndefined()
  })
})
