import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { STORE_FILE } from '../../src/constants.js'
import { type Answer, startConsumer } from '../helpers/http-consumer.js'
import { eventually, SECRETS, sign, tempDir } from '../helpers/index.js'
import { listEvents, post, startRelay } from '../helpers/relay-process.js'

const GRACE_MS = 5_000
const EVENTS = 6

const callback = (i: number) =>
  Buffer.from(JSON.stringify({ type: 'pay-in', data: { orderId: `stop-${i}`, status: 'Completed' } }))

/**
 * Stops a relay whose downstream answers as `answer` says, with events pending and a send in flight, and
 * checks the stop; then restarts it against a healthy downstream and counts what was sent twice.
 */
async function stopWhileSending(answer: Answer) {
  const consumer = await startConsumer()
  consumer.answer = () => answer
  const dataDir = tempDir('tylt-relay-stop-')
  const env = {
    TYLT_SECRET_CPG: SECRETS.cpg,
    DATA_DIR: dataDir,
    FORWARD_URL: consumer.url,
    SHUTDOWN_GRACE: `${GRACE_MS / 1000}s`,
  }
  const relay = await startRelay(env, { cwd: dataDir })
  for (let i = 0; i < EVENTS; i++) {
    const body = callback(i)
    expect(await post(`${relay.url}/webhooks/cpg`, body, sign(SECRETS.cpg, body))).toEqual({
      status: 200,
      body: 'ok',
    })
  }
  await eventually(
    async () => consumer.offered.length,
    (n) => n >= 1,
  )
  const started = performance.now()
  const exit = relay.stop('SIGTERM')
  // A second signal is told the relay is already stopping, and changes nothing.
  await new Promise((resolve) => setTimeout(resolve, 200))
  relay.child.kill('SIGTERM')
  expect(await exit, relay.output()).toBe(0)
  const tookMs = performance.now() - started
  expect(tookMs).toBeLessThanOrEqual(GRACE_MS + 1_000)
  expect(relay.output()).toContain('already stopping')
  // The store was closed: SQLite removes its write-ahead log when the last connection closes cleanly.
  expect(existsSync(join(dataDir, `${STORE_FILE}-wal`))).toBe(false)
  const delivered = consumer.received.length
  const last = JSON.parse(relay.stdout.filter((l) => l.startsWith('{')).at(-1)!) as Record<string, unknown>
  expect(last).toMatchObject({
    msg: `stopped; ${EVENTS - delivered} events pending`,
    pending: EVENTS - delivered,
  })

  const firstRun = new Set(consumer.offered)
  consumer.offered.length = 0
  consumer.answer = () => ({ status: 200 })
  const again = await startRelay(env, { cwd: dataDir })
  await eventually(
    async () => (await listEvents(env, 'pending')).length,
    (n) => n === 0,
    20_000,
  )
  expect(await again.stop()).toBe(0)
  const sentTwice = consumer.offered.filter((id) => firstRun.has(id))
  expect(sentTwice.length, `sent twice: ${sentTwice.join(', ')}`).toBeLessThanOrEqual(1)
  expect(new Set([...consumer.received]).size).toBe(EVENTS)
  return { tookMs, delivered }
}

describe('SIGTERM with a downstream that does not keep up', () => {
  it('one that never answers: exit 0 within SHUTDOWN_GRACE + 1 s, store closed, pending count last', async () => {
    const { delivered } = await stopWhileSending('hang')
    expect(delivered).toBe(0)
  }, 60_000)

  it('one that answers after 4 s: the same, and only the event in flight is sent again', async () => {
    await stopWhileSending({ status: 200, delayMs: 4_000 })
  }, 60_000)
})
