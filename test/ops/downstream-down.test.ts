import { createHmac } from 'node:crypto'
import { expect, onTestFinished, test } from 'vitest'
import { SqliteStore } from '../../src/store/sqlite-store.js'
import { fixture } from '../helpers/fixtures.js'
import { eventually, sample, tempDir } from '../helpers/index.js'
import { startTestRelay } from '../helpers/test-relay.js'

const SECRET = 'downstream-down-secret-91fa'

test('with the downstream unreachable the relay stays ready, answers ok and keeps the event pending', async () => {
  const dataDir = tempDir('tylt-relay-down-')
  const env = {
    TYLT_SECRET_DEMO: SECRET,
    DATA_DIR: dataDir,
    // Port 1 (tcpmux) has no listener here: every connection is refused at once.
    FORWARD_URL: 'redis://127.0.0.1:1?stream=x',
    // Undeliverable events cannot drain; a short grace keeps the stop quick.
    SHUTDOWN_GRACE: '1s',
    LOG_LEVEL: 'warn',
  }
  const relay = await startTestRelay(env)

  expect((await fetch(`${relay.opsUrl}/readyz`)).status).toBe(200)
  const body = fixture('cpg-pay-in.json')
  const answer = await fetch(`${relay.url}/webhooks/demo`, {
    method: 'POST',
    headers: { 'x-tlp-signature': createHmac('sha256', SECRET).update(body).digest('hex') },
    body,
  })
  expect([answer.status, await answer.text()]).toEqual([200, 'ok'])

  const scrape = async () => (await fetch(`${relay.opsUrl}/metrics`)).text()
  const failed = (text: string) =>
    sample(text, 'tylt_relay_events_forwarded_total', { sink: 'redis', outcome: 'failed' }) ?? 0
  const text = await eventually(scrape, (t) => failed(t) >= 1, 15_000)
  expect(sample(text, 'tylt_relay_pending_events')).toBe(1)
  expect(sample(text, 'tylt_relay_events_forwarded_total', { outcome: 'delivered' })).toBeUndefined()
  expect(sample(text, 'tylt_relay_store_up')).toBe(1)
  // Still ready after delivery failed: a broker outage must not take the relay out of its load balancer.
  expect((await fetch(`${relay.opsUrl}/readyz`)).status).toBe(200)

  expect(await relay.stop(), relay.output()).toEqual({ drained: false, pending: 1 })
  // The event survives the stop, pending, with the failure recorded.
  const reader = new SqliteStore(dataDir)
  onTestFinished(() => reader.close())
  const events = reader.list({ limit: 10 })
  expect(events).toHaveLength(1)
  expect(events[0]).toMatchObject({ state: 'pending' })
  expect(events[0]!.attempts).toBeGreaterThanOrEqual(1)
  expect(events[0]!.lastError).toMatch(/redis/i)
}, 60_000)
