import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { startConsumer } from '../helpers/http-consumer.js'
import { eventually, SECRETS, sample, sign } from '../helpers/index.js'
import { post, startRelay } from '../helpers/relay-process.js'

/** Debian's `prometheus` package ships it; without it the check cannot run. */
const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' })
const missing = promtool.error === undefined ? undefined : 'promtool is not installed (Debian: prometheus)'
if (missing !== undefined) console.warn(`skipped: ${missing}`)

const callback = (i: number) =>
  Buffer.from(JSON.stringify({ type: 'pay-in', data: { orderId: `prom-${i}` } }))

describe('GET /metrics of a running relay', () => {
  it.skipIf(missing !== undefined)(
    'passes promtool check metrics once callbacks, refusals and deliveries have made every kind of series',
    async () => {
      const consumer = await startConsumer()
      // A downstream with credentials in its URL: its `downstream` label never carries them.
      const forward = consumer.url.replace('http://', 'http://relay:s3cret-pw@')
      const relay = await startRelay({ TYLT_SECRET_CPG: SECRETS.cpg, FORWARD_URL: forward })
      const bodies = [0, 1, 2].map(callback)
      for (const body of bodies) {
        expect(await post(`${relay.url}/webhooks/cpg`, body, sign(SECRETS.cpg, body))).toEqual({
          status: 200,
          body: 'ok',
        })
      }
      expect((await post(`${relay.url}/webhooks/cpg`, bodies[0]!, sign('wrong', bodies[0]!))).status).toBe(
        401,
      )
      expect((await post(`${relay.url}/webhooks/nope`, bodies[0]!, 'x')).status).toBe(404)
      await eventually(
        async () => consumer.received.length,
        (n) => n === 3,
      )
      const text = await eventually(
        () => relay.metrics(),
        (t) => (sample(t, 'tylt_relay_events_forwarded_total', { outcome: 'delivered' }) ?? 0) === 3,
      )
      // The series that exist only after traffic are there: histograms with labels, labelled counters.
      expect(sample(text, 'tylt_relay_ack_duration_seconds_count', { outcome: 'accepted' })).toBe(3)
      expect(sample(text, 'tylt_relay_forward_duration_seconds_count')).toBeGreaterThan(0)
      expect(sample(text, 'tylt_relay_webhook_refusals_total', { reason: 'mismatch' })).toBe(1)
      expect(sample(text, 'tylt_relay_webhook_refusals_total', { reason: 'unknown_service' })).toBe(1)
      expect(sample(text, 'tylt_relay_store_commit_batch_size_count')).toBeGreaterThan(0)
      expect(text).toContain('tylt_relay_nodejs_eventloop_lag_p99_seconds ')
      expect(text).not.toContain('s3cret-pw')

      const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
      expect({ status: check.status, stdout: check.stdout, stderr: check.stderr }).toEqual({
        status: 0,
        stdout: '',
        stderr: '',
      })
    },
  )
})
