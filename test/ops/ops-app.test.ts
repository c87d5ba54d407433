import { readFileSync } from 'node:fs'
import { describe, expect, onTestFinished, test } from 'vitest'
import { buildOpsApp } from '../../src/ops/ops-app.js'
import { buildTestApp, SECRETS, sample, sign } from '../helpers/index.js'

const BODY = readFileSync(new URL('../fixtures/cpg-pay-in.json', import.meta.url))
const OTHER = readFileSync(new URL('../fixtures/upi-trade.json', import.meta.url))

const doc = (name: string) => readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8')

/** Every metric docs/reference.md section 7 lists (its tables name them without the `tylt_relay_` prefix). */
function referenceMetrics(): string[] {
  const section = doc('reference.md').split('## 7. Metrics')[1]!.split('\n## ')[0]!
  const firstCells = [...section.matchAll(/^\| (`[^|]+`) \|/gm)].map((m) => m[1]!)
  return firstCells.flatMap((cell) => [...cell.matchAll(/`([a-z0-9_]+)`/g)].map((m) => `tylt_relay_${m[1]}`))
}

/** Every `tylt_relay_*` name the alert rules in docker/prometheus/alerts.yml use. */
function alertMetrics(): string[] {
  const rules = readFileSync(new URL('../../docker/prometheus/alerts.yml', import.meta.url), 'utf8')
  return [...new Set([...rules.matchAll(/\btylt_relay_[a-z0-9_]+/g)].map((m) => m[0]))]
}

/** Whether a scrape declares the metric; a histogram's `_bucket`, `_sum` and `_count` series count as it. */
function declares(scrape: string, name: string): boolean {
  const histogram = /^(.+)_(bucket|sum|count)$/.exec(name)?.[1]
  return (
    scrape.includes(`\n# TYPE ${name} `) ||
    (histogram !== undefined && scrape.includes(`\n# TYPE ${histogram} histogram\n`))
  )
}

/** The webhook app and the ops app over one real store, as src/server.ts wires them. */
async function relay() {
  const test = await buildTestApp()
  const ops = buildOpsApp({ logger: test.logger, store: test.store, metrics: test.metrics })
  onTestFinished(() => ops.close())
  const post = (url: string, body: Buffer, signature?: string) =>
    test.app.inject({
      method: 'POST',
      url,
      headers: signature === undefined ? {} : { 'x-tlp-signature': signature },
      payload: body,
    })
  const metrics = async () => (await ops.inject({ method: 'GET', url: '/metrics' })).body
  return { ...test, ops, post, metrics }
}

describe('operations listener', () => {
  test('GET /healthz answers 200 while the process is alive', async () => {
    const { ops } = await relay()
    const answer = await ops.inject({ method: 'GET', url: '/healthz' })
    expect([answer.statusCode, answer.body]).toEqual([200, 'ok'])
  })

  test('GET /readyz is 200 with a working store and 503 once the store is closed', async () => {
    const { ops, store, metrics } = await relay()
    expect((await ops.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200)
    expect(sample(await metrics(), 'tylt_relay_store_up')).toBe(1)
    await store.close()
    const answer = await ops.inject({ method: 'GET', url: '/readyz' })
    expect(answer.statusCode).toBe(503)
    // Store gauges share one read for 100 ms; the next scrape after that sees the closed store.
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(sample(await metrics(), 'tylt_relay_store_up')).toBe(0)
  })

  test('GET /metrics is Prometheus text carrying every documented metric', async () => {
    const { ops } = await relay()
    const answer = await ops.inject({ method: 'GET', url: '/metrics' })
    expect(answer.statusCode).toBe(200)
    expect(answer.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
    const documented = referenceMetrics()
    expect(documented.length).toBeGreaterThan(20)
    expect(documented.filter((name) => !declares(answer.body, name))).toEqual([])
    for (const line of answer.body.split('\n').filter((l) => l !== '' && !l.startsWith('#'))) {
      expect(line).toMatch(/^tylt_relay_/)
    }
  })

  test('every metric the alert rules in docker/prometheus/alerts.yml use is one /metrics declares', async () => {
    const { metrics } = await relay()
    const used = alertMetrics()
    expect(used).toContain('tylt_relay_quarantined_total')
    expect(used).toContain('tylt_relay_ack_duration_seconds_bucket')
    const scrape = await metrics()
    expect(used.filter((name) => !declares(scrape, name))).toEqual([])
  })

  test('a refused signature counts its reason, and nothing becomes pending', async () => {
    const { post, metrics } = await relay()
    expect((await post('/webhooks/cpg', BODY, sign('not-the-secret', BODY))).statusCode).toBe(401)
    expect((await post('/webhooks/cpg', BODY)).statusCode).toBe(401)
    expect((await post('/webhooks/cpg', BODY, 'zz-not-hex')).statusCode).toBe(401)
    const text = await metrics()
    for (const reason of ['mismatch', 'missing', 'malformed']) {
      expect(sample(text, 'tylt_relay_verification_failures_total', { service: 'cpg', reason }), reason).toBe(
        1,
      )
    }
    const refused = { service: 'cpg', outcome: 'invalid_signature' }
    expect(sample(text, 'tylt_relay_webhook_requests_total', refused)).toBe(3)
    expect(sample(text, 'tylt_relay_webhook_requests_total', { outcome: 'accepted' })).toBeUndefined()
    expect(sample(text, 'tylt_relay_pending_events')).toBe(0)
    expect(sample(text, 'tylt_relay_oldest_pending_age_seconds')).toBe(0)
  })

  test('accepted callbacks with no downstream are counted, timed and pending, the oldest aging', async () => {
    const { post, metrics } = await relay()
    expect((await post('/webhooks/cpg', BODY, sign(SECRETS.cpg, BODY))).body).toBe('ok')
    expect((await post('/webhooks/prime-upi', OTHER, sign(SECRETS.upiCurrent, OTHER))).body).toBe('ok')
    await new Promise((resolve) => setTimeout(resolve, 20))
    const text = await metrics()
    expect(sample(text, 'tylt_relay_webhook_requests_total', { service: 'cpg', outcome: 'accepted' })).toBe(1)
    expect(sample(text, 'tylt_relay_ack_duration_seconds_count', { outcome: 'accepted' })).toBe(2)
    expect(sample(text, 'tylt_relay_pending_events')).toBe(2)
    expect(sample(text, 'tylt_relay_oldest_pending_age_seconds')).toBeGreaterThan(0)
    expect(sample(text, 'tylt_relay_dead_letters')).toBe(0)
    expect(sample(text, 'tylt_relay_verification_failures_total')).toBeUndefined()
  })

  test('the secret that matched shows whether a rotation is still in use', async () => {
    const { post, metrics } = await relay()
    expect((await post('/webhooks/prime-upi', OTHER, sign(SECRETS.upiOlder, OTHER))).body).toBe('ok')
    let text = await metrics()
    const slot = (name: string) => ({ service: 'prime-upi', slot: name, bytes: 'raw' })
    expect(sample(text, 'tylt_relay_secret_matches_total', slot('older'))).toBe(1)
    expect(sample(text, 'tylt_relay_secret_matches_total', slot('current'))).toBeUndefined()
    expect((await post('/webhooks/prime-upi', BODY, sign(SECRETS.upiCurrent, BODY))).body).toBe('ok')
    text = await metrics()
    expect(sample(text, 'tylt_relay_secret_matches_total', slot('current'))).toBe(1)
    expect(sample(text, 'tylt_relay_secret_matches_total', slot('older'))).toBe(1)
  })

  test.each([
    ['GET', '/'],
    ['GET', '/metrics/'],
    ['GET', '/health'],
    ['POST', '/healthz'],
    ['POST', '/webhooks/cpg'],
  ] as const)('%s %s on the ops port is 404', async (method, url) => {
    const { ops } = await relay()
    expect((await ops.inject({ method, url })).statusCode).toBe(404)
  })
})
