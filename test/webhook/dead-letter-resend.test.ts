import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { buildTestApp, postWebhook, SECRETS, sign } from '../helpers/index.js'

const body = readFileSync(new URL('../fixtures/cpg-pay-in.json', import.meta.url))

describe('a dashboard re-send of a dead-lettered event', () => {
  it('revives it: ok, accepted, pending again with its retry clock restarted, forwarded in its place', async () => {
    const t = await buildTestApp()
    const signature = sign(SECRETS.cpg, body)
    expect((await postWebhook(t.app, '/webhooks/cpg', body, signature)).body).toBe('ok')
    const [stored] = t.stored()
    await t.store.markRefused(stored!.seq, Date.now(), 'http://consumer/', 'HTTP 413 Payload Too Large')
    expect(t.stored()[0]?.state).toBe('dead')

    const before = Date.now()
    const resent = await postWebhook(t.app, '/webhooks/cpg', body, signature)
    expect(resent.statusCode).toBe(200)
    expect(resent.body).toBe('ok')
    const [revived, ...others] = t.stored()
    expect(others).toHaveLength(0)
    expect(revived).toMatchObject({ id: stored!.id, seq: stored!.seq, state: 'pending', attempts: 1 })
    expect(revived!.retrySince).toBeGreaterThanOrEqual(before)
    expect(revived!.acceptedAt).toBe(stored!.acceptedAt)
    // The refusal stays in its history, and the forwarder reads it first again.
    expect((await t.store.attempts(stored!.id)).map((a) => a.outcome)).toEqual(['refused'])
    expect((await t.store.pending({ limit: 10, maxBytes: 1e9 })).map((e) => e.id)).toEqual([stored!.id])
  })

  it('leaves a pending or delivered event alone: a duplicate, answered ok, nothing changed', async () => {
    const t = await buildTestApp()
    const signature = sign(SECRETS.cpg, body)
    await postWebhook(t.app, '/webhooks/cpg', body, signature)
    const [pending] = t.stored()
    const again = await postWebhook(t.app, '/webhooks/cpg', body, signature)
    expect(again.body).toBe('ok')
    expect(t.stored()).toEqual([pending])

    await t.store.markDelivered([pending!.seq], Date.now(), 'http://consumer/')
    const [delivered] = t.stored()
    expect((await postWebhook(t.app, '/webhooks/cpg', body, signature)).body).toBe('ok')
    expect(t.stored()).toEqual([delivered])
    expect(await t.store.pending({ limit: 10, maxBytes: 1e9 })).toHaveLength(0)
  })

  it('revives a dead letter once when the re-send arrives twice at the same moment', async () => {
    const t = await buildTestApp()
    const signature = sign(SECRETS.cpg, body)
    await postWebhook(t.app, '/webhooks/cpg', body, signature)
    await t.store.expire(Date.now() + 1, 'http://consumer/', 'retries ran out')
    const answers = await Promise.all([
      postWebhook(t.app, '/webhooks/cpg', body, signature),
      postWebhook(t.app, '/webhooks/cpg', body, signature),
    ])
    expect(answers.map((a) => a.body)).toEqual(['ok', 'ok'])
    expect(t.stored().map((e) => e.state)).toEqual(['pending'])
    expect(await t.store.pending({ limit: 10, maxBytes: 1e9 })).toHaveLength(1)
  })
})
