import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import type { RefusedRequest } from '../../src/core/quarantine-store.js'
import { fixture } from '../helpers/fixtures.js'
import { buildTestApp, postWebhook, SECRETS, sign } from '../helpers/index.js'

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

  it.each([
    ['a declared length', false],
    ['a chunked body', true],
  ])(
    'an unknown service sent a body over BODY_LIMIT (%s) gets the 404 it gets with the quarantine off',
    async (_shape, chunked) => {
      const big = Buffer.alloc(4096, 'a')
      const answer = async (
        quarantine: { refused: (r: RefusedRequest) => void } | undefined,
        url: string,
      ) => {
        const deps = quarantine === undefined ? {} : { quarantine }
        const { app } = await buildTestApp({ BODY_LIMIT: '1024' }, undefined, deps)
        const res = await app.inject({
          method: 'POST',
          url,
          headers: {
            'x-tlp-signature': sign(SECRETS.cpg, big),
            ...(chunked ? { 'transfer-encoding': 'chunked' } : {}),
          },
          payload: chunked ? Readable.from([big.subarray(0, 2048), big.subarray(2048)]) : big,
        })
        return [res.statusCode, res.headers['content-type'], res.body]
      }
      const { seen, quarantine } = recorder()
      const off = await answer(undefined, '/webhooks/not-yet')
      expect(off).toEqual([404, 'text/plain; charset=utf-8', 'not found'])
      expect(await answer(quarantine, '/webhooks/not-yet')).toEqual(off)
      expect(await answer(quarantine, '/webhooks/cpg/extra')).toEqual(off)
      // Nothing of a body past the limit is kept; a configured service still answers 413 for it.
      expect(seen).toHaveLength(0)
      expect(await answer(quarantine, '/webhooks/cpg')).toEqual([
        413,
        'text/plain; charset=utf-8',
        'payload too large',
      ])
    },
  )

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
