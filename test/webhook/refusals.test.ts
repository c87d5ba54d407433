import { describe, expect, it } from 'vitest'
import type { RefusedRequest } from '../../src/core/quarantine-store.js'
import { fixture } from '../fixtures.js'
import { buildTestApp, postWebhook, SECRETS, sign } from '../helper.js'

const body = fixture('cpg-pay-in.json')

/** A quarantine that only records what the webhook path handed it. */
function recorder() {
  const seen: RefusedRequest[] = []
  return { seen, quarantine: { refused: (request: RefusedRequest) => void seen.push(request) } }
}

describe('refused requests are handed to the quarantine with their exact bytes', () => {
  it.each([
    ['mismatch', sign('not-the-secret-of-cpg', body)],
    ['malformed', 'zz'],
    ['missing', undefined],
  ])(
    '401 %s: the answer is unchanged, nothing is stored, the request is handed over',
    async (reason, sig) => {
      const { seen, quarantine } = recorder()
      const { app, stored } = await buildTestApp({}, undefined, { quarantine })
      const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'tylt/1' }
      if (sig !== undefined) headers['x-tlp-signature'] = sig
      const res = await app.inject({ method: 'POST', url: '/webhooks/cpg', headers, payload: body })
      expect([res.statusCode, res.body]).toEqual([401, 'invalid signature'])
      expect(stored()).toHaveLength(0)
      expect(seen).toHaveLength(1)
      expect(seen[0]).toMatchObject({
        reason,
        path: '/webhooks/cpg',
        service: 'cpg',
        signature: sig ?? null,
        contentType: 'application/json',
        userAgent: 'tylt/1',
        sourceAddress: '127.0.0.1',
      })
      expect(seen[0]!.body.equals(body)).toBe(true)
    },
  )

  it('404 for a service not configured: the body is read and handed over, the answer stays 404', async () => {
    const { seen, quarantine } = recorder()
    const { app, stored } = await buildTestApp({}, undefined, { quarantine })
    const res = await postWebhook(app, '/webhooks/not-yet', body, sign(SECRETS.cpg, body))
    expect([res.statusCode, res.body]).toEqual([404, 'not found'])
    expect(stored()).toHaveLength(0)
    expect(seen.map((r) => [r.reason, r.service, r.path])).toEqual([
      ['unknown_service', 'not-yet', '/webhooks/not-yet'],
    ])
    expect(seen[0]!.body.equals(body)).toBe(true)
  })

  it('POST /webhooks that matches no service is handed over without a service', async () => {
    const { seen, quarantine } = recorder()
    const { app } = await buildTestApp({}, undefined, { quarantine })
    const res = await postWebhook(app, '/webhooks', body, sign('nobody', body))
    expect(res.statusCode).toBe(401)
    expect(seen.map((r) => [r.reason, r.service])).toEqual([['mismatch', null]])
  })

  it('a genuine callback is not handed over', async () => {
    const { seen, quarantine } = recorder()
    const { app } = await buildTestApp({}, undefined, { quarantine })
    const res = await postWebhook(app, '/webhooks/cpg', body, sign(SECRETS.cpg, body))
    expect(res.statusCode).toBe(200)
    expect(seen).toHaveLength(0)
  })
})
