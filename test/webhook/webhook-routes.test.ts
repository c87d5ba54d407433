import { describe, expect, it } from 'vitest'
import { fixture } from '../helpers/fixtures.js'
import { buildTestApp, postWebhook, SECRETS, sign } from '../helpers/index.js'

const body = fixture('cpg-pay-in.json')

describe('POST /webhooks/:service', () => {
  it('answers 200 text/plain "ok" and stores exactly the signed bytes', async () => {
    const { app, stored } = await buildTestApp()
    const res = await app.inject({
      method: 'POST',
      url: '/webhooks/cpg',
      headers: { 'content-type': 'application/json', 'x-tlp-signature': sign(SECRETS.cpg, body) },
      payload: body,
    })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/plain/)
    expect(res.body).toBe('ok')
    const events = stored()
    expect(events).toHaveLength(1)
    expect(Buffer.from(events[0]!.body).equals(body)).toBe(true)
    expect(events[0]).toMatchObject({
      service: 'cpg',
      state: 'pending',
      orderId: '9b1e4c2a-5d7f-4e8a-b3c6-1f2e3d4c5b6a',
      merchantOrderId: 'ORD-10042',
      status: 'Completed',
      signature: sign(SECRETS.cpg, body),
    })
    expect(events[0]!.id).toMatch(/^evt_[0-9a-f]{32}$/)
  })

  it.each([
    ['application/json', 'application/json'],
    ['text/plain', 'text/plain'],
    ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded'],
    ['an unknown type', 'application/vnd.tylt+weird'],
    ['no Content-Type', undefined],
  ])('accepts %s: the signature covers bytes, not a media type', async (_name, type) => {
    const { app, stored } = await buildTestApp()
    const headers: Record<string, string> = { 'x-tlp-signature': sign(SECRETS.cpg, body) }
    if (type !== undefined) headers['content-type'] = type
    const res = await app.inject({ method: 'POST', url: '/webhooks/cpg', headers, payload: body })
    expect([res.statusCode, res.body]).toEqual([200, 'ok'])
    expect(Buffer.from(stored()[0]!.body).equals(body)).toBe(true)
  })

  it('accepts the signature in upper case and with surrounding spaces', async () => {
    const { app, stored } = await buildTestApp()
    const header = `  ${sign(SECRETS.cpg, body).toUpperCase()}  `
    const res = await postWebhook(app, '/webhooks/cpg', body, header)
    expect([res.statusCode, res.body]).toEqual([200, 'ok'])
    expect(stored()).toHaveLength(1)
  })

  it('accepts a verified body that is not JSON, and forwards it as bytes', async () => {
    const { app, stored } = await buildTestApp()
    const text = fixture('not-json.txt')
    const res = await postWebhook(app, '/webhooks/cpg', text, sign(SECRETS.cpg, text))
    expect([res.statusCode, res.body]).toEqual([200, 'ok'])
    expect(stored()[0]).toMatchObject({ orderId: null, status: null })
    expect(Buffer.from(stored()[0]!.body).equals(text)).toBe(true)
  })

  it('stores a re-send of the same event once and still answers ok', async () => {
    const { app, stored } = await buildTestApp()
    const send = () => postWebhook(app, '/webhooks/cpg', body, sign(SECRETS.cpg, body))
    const answers = await Promise.all([send(), send(), send()])
    expect(answers.map((r) => [r.statusCode, r.body])).toEqual([
      [200, 'ok'],
      [200, 'ok'],
      [200, 'ok'],
    ])
    expect((await send()).body).toBe('ok')
    expect(stored()).toHaveLength(1)
  })

  it('treats the same bytes for another service as another event', async () => {
    const { app, stored } = await buildTestApp()
    await postWebhook(app, '/webhooks/cpg', body, sign(SECRETS.cpg, body))
    const res = await postWebhook(app, '/webhooks/prime-upi', body, sign(SECRETS.upiCurrent, body))
    expect(res.body).toBe('ok')
    const [a, b] = stored()
    expect(a!.id).not.toBe(b!.id)
  })

  it('accepts every secret of a rotation', async () => {
    const { app, stored } = await buildTestApp()
    for (const secret of [SECRETS.upiCurrent, SECRETS.upiOlder]) {
      const payload = Buffer.from(JSON.stringify({ type: 'pay-in', data: { orderId: secret } }))
      const res = await postWebhook(app, '/webhooks/prime-upi', payload, sign(secret, payload))
      expect(res.body).toBe('ok')
    }
    expect(stored().map((e) => e.service)).toEqual(['prime-upi', 'prime-upi'])
  })
})

describe('POST /webhooks (no service in the path)', () => {
  it('names the service whose secret verifies', async () => {
    const { app, stored } = await buildTestApp()
    const res = await postWebhook(app, '/webhooks', body, sign(SECRETS.upiOlder, body))
    expect([res.statusCode, res.body]).toEqual([200, 'ok'])
    expect(stored().map((e) => e.service)).toEqual(['prime-upi'])
  })

  it('refuses a body no configured secret signed, and stores nothing', async () => {
    const { app, stored } = await buildTestApp()
    const res = await postWebhook(app, '/webhooks', body, sign('not-a-configured-secret', body))
    expect([res.statusCode, res.body]).toEqual([401, 'invalid signature'])
    expect(stored()).toEqual([])
  })
})

describe('refusals', () => {
  const good = sign(SECRETS.cpg, body)
  const mutated = Buffer.from(body)
  mutated[40] = mutated[40]! ^ 0x01

  it.each([
    ['no signature header', undefined, body],
    ['an empty signature', '', body],
    ['63 hex characters', good.slice(0, 63), body],
    ['65 hex characters', `${good}0`, body],
    ['a non-hex character', `${good.slice(0, 63)}g`, body],
    ['one byte of the body changed', good, mutated],
    ["another service's secret", sign(SECRETS.upiCurrent, body), body],
    ['a signature in base64', Buffer.from(good, 'hex').toString('base64'), body],
    ['two signature headers', [good, good], body],
  ])('401 "invalid signature" for %s; nothing stored', async (_name, header, payload) => {
    const { app, stored } = await buildTestApp()
    const headers: Record<string, string | string[]> = {}
    if (header !== undefined) headers['x-tlp-signature'] = header
    const res = await app.inject({ method: 'POST', url: '/webhooks/cpg', headers, payload })
    expect(res.statusCode).toBe(401)
    expect(res.body).toBe('invalid signature')
    expect(res.headers['content-type']).toMatch(/^text\/plain/)
    expect(stored()).toEqual([])
  })

  it('refuses a secret once it is removed from the configuration', async () => {
    const { app, stored } = await buildTestApp({ TYLT_SECRET_PRIME_UPI: SECRETS.upiCurrent })
    const res = await postWebhook(app, '/webhooks/prime-upi', body, sign(SECRETS.upiOlder, body))
    expect([res.statusCode, res.body]).toEqual([401, 'invalid signature'])
    expect(stored()).toEqual([])
  })

  it('404 for an unknown service, before reading the body', async () => {
    const { app, stored } = await buildTestApp()
    const res = await postWebhook(app, '/webhooks/unknown', body, sign(SECRETS.cpg, body))
    expect([res.statusCode, res.body]).toEqual([404, 'not found'])
    expect(stored()).toEqual([])
  })

  it('413 for a body over BODY_LIMIT, even when correctly signed', async () => {
    const { app, stored } = await buildTestApp({ BODY_LIMIT: '1024' })
    const big = Buffer.from(JSON.stringify({ data: { pad: 'x'.repeat(2000) } }))
    const res = await postWebhook(app, '/webhooks/cpg', big, sign(SECRETS.cpg, big))
    expect([res.statusCode, res.body]).toEqual([413, 'payload too large'])
    expect(stored()).toEqual([])
  })

  it.each([
    ['GET', '/webhooks/cpg'],
    ['PUT', '/webhooks/cpg'],
    ['GET', '/'],
    ['POST', '/'],
    ['POST', '/webhooks/cpg/extra'],
    ['GET', '/metrics'],
    ['GET', '/healthz'],
  ] as const)('404 for %s %s: this port serves nothing but webhooks', async (method, url) => {
    const { app, stored } = await buildTestApp()
    const headers = { 'x-tlp-signature': sign(SECRETS.cpg, body) }
    const res = await app.inject(
      method === 'GET' ? { method, url, headers } : { method, url, headers, payload: body },
    )
    expect([res.statusCode, res.body]).toEqual([404, 'not found'])
    expect(stored()).toEqual([])
  })

  it('503 with Retry-After when the store cannot take the event, and nothing is acknowledged', async () => {
    const { app, store, stored } = await buildTestApp()
    await store.close()
    const res = await postWebhook(app, '/webhooks/cpg', body, sign(SECRETS.cpg, body))
    expect(res.statusCode).toBe(503)
    expect(res.headers['retry-after']).toBe('5')
    expect(res.body).not.toBe('ok')
    expect(stored()).toEqual([])
  })
})

describe('JSON re-serialisation fallback', () => {
  const pretty = fixture('cpg-pay-in-pretty.json')
  const compact = fixture('cpg-pay-in.json')

  it('accepts a pretty-printed body signed over its compact form, and stores the compact bytes', async () => {
    const { app, stored } = await buildTestApp()
    const res = await postWebhook(app, '/webhooks/cpg', pretty, sign(SECRETS.cpg, compact))
    expect([res.statusCode, res.body]).toEqual([200, 'ok'])
    const events = stored()
    expect(events).toHaveLength(1)
    expect(Buffer.from(events[0]!.body).equals(compact)).toBe(true)
  })

  it('shares the event id of the compact form, so the two count as one event', async () => {
    const { app, stored } = await buildTestApp()
    for (const payload of [compact, pretty]) {
      const res = await postWebhook(app, '/webhooks/cpg', payload, sign(SECRETS.cpg, compact))
      expect(res.body).toBe('ok')
    }
    expect(stored()).toHaveLength(1)
  })

  it('refuses it with SIGNATURE_JSON_FALLBACK=false', async () => {
    const { app, stored } = await buildTestApp({ SIGNATURE_JSON_FALLBACK: 'false' })
    const res = await postWebhook(app, '/webhooks/cpg', pretty, sign(SECRETS.cpg, compact))
    expect([res.statusCode, res.body]).toEqual([401, 'invalid signature'])
    expect(stored()).toEqual([])
  })

  it('cannot smuggle a value through a duplicated key: only the signed bytes are kept', async () => {
    const { app, stored } = await buildTestApp()
    const signed = '{"type":"pay-in","data":{"orderId":"o-1","status":"Expired"}}'
    // JSON.parse keeps the last duplicate, so this re-serialises to exactly the signed bytes; a consumer
    // whose parser keeps the first duplicate would read "Completed" if the raw bytes were forwarded.
    const forged = '{"type":"pay-in","data":{"orderId":"o-1","status":"Completed","status":"Expired"}}'
    const res = await postWebhook(app, '/webhooks/cpg', forged, sign(SECRETS.cpg, signed))
    expect(res.body).toBe('ok')
    const [event] = stored()
    expect(Buffer.from(event!.body).toString()).toBe(signed)
    expect(Buffer.from(event!.body).includes('Completed')).toBe(false)
    expect(event!.status).toBe('Expired')
  })
})
