import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { fixture } from '../helpers/fixtures.js'
import { buildTestApp, SECRETS, sample, sign, sleep } from '../helpers/index.js'

const body = fixture('cpg-pay-in.json')

type Line = Record<string, unknown>

/** The webhook app with every log line it writes captured, parsed. */
async function logged(options: Parameters<typeof buildTestApp>[2] = {}) {
  const lines: Line[] = []
  const raw: string[] = []
  const logger = pino(
    { level: 'info' },
    {
      write(line: string) {
        raw.push(line)
        lines.push(JSON.parse(line))
      },
    },
  )
  const test = await buildTestApp({}, logger, options)
  const post = (url: string, signature?: string) =>
    test.app.inject({
      method: 'POST',
      url,
      headers: signature === undefined ? {} : { 'x-tlp-signature': signature },
      payload: body,
    })
  const webhookLines = () => lines.filter((l) => l.msg === 'webhook')
  const refusals = async (labels: Record<string, string>) =>
    sample(await test.metrics.registry.metrics(), 'tylt_relay_webhook_refusals_total', labels)
  return { ...test, post, webhookLines, raw, refusals }
}

describe('every refused request on a webhook path is logged with what was asked and why, and counted', () => {
  it.each([
    ['missing', undefined],
    ['malformed', 'not-hex'],
    ['mismatch', sign('not-the-cpg-secret', body)],
  ])('401 %s', async (reason, signature) => {
    const { post, webhookLines, raw, refusals } = await logged()
    const res = await post('/webhooks/cpg?attempt=1', signature)
    expect(res.statusCode).toBe(401)
    expect(webhookLines()).toEqual([
      expect.objectContaining({
        level: 40,
        method: 'POST',
        path: '/webhooks/cpg?attempt=1',
        asked: 'cpg',
        service: 'cpg',
        reason,
        outcome: 'invalid_signature',
        statusCode: 401,
        overLimit: false,
      }),
    ])
    expect(await refusals({ reason, over_limit: 'false' })).toBe(1)
    // The signature and the body never reach the log.
    for (const line of raw) {
      if (signature !== undefined && signature.length > 8) expect(line).not.toContain(signature)
      expect(line).not.toContain('ORD-10042')
    }
  })

  it('401 on POST /webhooks names no service', async () => {
    const { post, webhookLines } = await logged()
    await post('/webhooks', sign('nobody', body))
    expect(webhookLines()[0]).toMatchObject({
      path: '/webhooks',
      asked: '*',
      reason: 'mismatch',
      statusCode: 401,
    })
  })

  it.each([
    ['without a quarantine', {}],
    ['with a quarantine', { quarantine: { refused: () => undefined } }],
  ])('404 unknown_service %s', async (_name, options) => {
    const { post, webhookLines, refusals, metrics } = await logged(options)
    const res = await post('/webhooks/cpg-typo', sign(SECRETS.cpg, body))
    expect([res.statusCode, res.body]).toEqual([404, 'not found'])
    expect(webhookLines()).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: '/webhooks/cpg-typo',
        asked: 'cpg-typo',
        service: 'unknown',
        reason: 'unknown_service',
        statusCode: 404,
      }),
    ])
    expect(await refusals({ reason: 'unknown_service' })).toBe(1)
    // The path is never a label: nothing in the exposition names the service asked for.
    expect(await metrics.registry.metrics()).not.toContain('cpg-typo')
  })

  it('a deeper path under /webhooks/ is an unknown service too, logged and handed to the quarantine', async () => {
    const seen: string[] = []
    const { post, webhookLines } = await logged({ quarantine: { refused: (r) => void seen.push(r.path) } })
    const res = await post('/webhooks/cpg/webhooks/cpg', sign(SECRETS.cpg, body))
    expect([res.statusCode, res.body]).toEqual([404, 'not found'])
    expect(webhookLines()).toEqual([
      expect.objectContaining({
        path: '/webhooks/cpg/webhooks/cpg',
        asked: 'cpg',
        reason: 'unknown_service',
        statusCode: 404,
      }),
    ])
    expect(seen).toEqual(['/webhooks/cpg/webhooks/cpg'])
  })

  it('a kilobytes-long path is logged bounded, and 404 even past the router’s parameter limit', async () => {
    const { post, webhookLines } = await logged()
    const res = await post(`/webhooks/${'x'.repeat(5_000)}`, sign(SECRETS.cpg, body))
    expect(res.statusCode).toBe(404)
    const [line] = webhookLines()
    expect(line).toMatchObject({ reason: 'unknown_service', statusCode: 404, method: 'POST' })
    expect((line!.path as string).length).toBe(256)
    expect((line!.asked as string).length).toBe(128)
  })

  it('bad percent-encoding is logged as bad_url', async () => {
    const { post, webhookLines, refusals } = await logged()
    expect((await post('/webhooks/%E0%A4%A', sign(SECRETS.cpg, body))).statusCode).toBe(400)
    expect(webhookLines()).toEqual([
      expect.objectContaining({ path: '/webhooks/%E0%A4%A', reason: 'bad_url', statusCode: 400 }),
    ])
    expect(await refusals({ reason: 'bad_url' })).toBe(1)
  })

  it('an accepted callback carries no refusal fields', async () => {
    const { post, webhookLines, refusals } = await logged()
    expect((await post('/webhooks/cpg', sign(SECRETS.cpg, body))).statusCode).toBe(200)
    const [line] = webhookLines()
    expect(line).toMatchObject({ level: 30, outcome: 'accepted', statusCode: 200 })
    expect(line).not.toHaveProperty('reason')
    expect(line).not.toHaveProperty('path')
    expect(await refusals({})).toBeUndefined()
  })

  it('a flood from one source writes at most 20 refusal lines at once; its next line says how many were not written', async () => {
    const { app, webhookLines, refusals } = await logged()
    const forge = (remoteAddress: string) =>
      app.inject({
        method: 'POST',
        url: '/webhooks/cpg',
        headers: { 'x-tlp-signature': sign('forged', body) },
        payload: body,
        remoteAddress,
      })
    for (let i = 0; i < 50; i++) expect((await forge('203.0.113.9')).statusCode).toBe(401)
    expect((await forge('198.51.100.4')).statusCode).toBe(401)
    const from = (ip: string) => webhookLines().filter((l) => l.ip === ip)
    expect(from('203.0.113.9')).toHaveLength(20)
    expect(from('203.0.113.9').every((l) => l.level === 40 && !('suppressed' in l))).toBe(true)
    expect(from('198.51.100.4')).toHaveLength(1)
    // Every refusal is counted whether or not its line was written.
    expect(await refusals({ reason: 'mismatch' })).toBe(51)
    // A line a second comes back; it carries the count of those not written since.
    await sleep(1_100)
    await forge('203.0.113.9')
    expect(from('203.0.113.9').at(-1)).toMatchObject({ level: 40, statusCode: 401, suppressed: 30 })
  })
})
