import { cpSync, readFileSync } from 'node:fs'
import { Redis } from 'ioredis'
import { describe, expect, it, onTestFinished } from 'vitest'
import { DEFAULTS } from '../../src/constants.js'
import { GroupCommitStore } from '../../src/store/group-commit-store.js'
import { freePort, redisServerArgs, startProcess, stopProcess } from '../forward/sinks/helpers.js'
import { startConsumer } from '../helpers/http-consumer.js'
import { eventually, SECRETS, sample, tempDir } from '../helpers/index.js'
import { type RelayProcess, startRelay } from '../helpers/relay-process.js'

const EVENTS = 1_500
const BODY_BYTES = 250_000
/** The memory limit of the relay container in docker/kubernetes/deployment.yaml. */
const LIMIT_KIB = 256 * 1024

/** A store holding EVENTS pending events of BODY_BYTES each, written directly (the intake is not measured). */
async function backlog(): Promise<string> {
  const dataDir = tempDir('tylt-relay-backlog-')
  const store = new GroupCommitStore(dataDir)
  const head = (j: number) => `{"type":"pay-in","data":{"orderId":"mem-${String(j).padStart(6, '0')}","pad":"`
  const pad = 'p'.repeat(BODY_BYTES - head(0).length - '"}}'.length)
  for (let i = 0; i < EVENTS; i += 50) {
    const appends = []
    for (let j = i; j < Math.min(EVENTS, i + 50); j++) {
      const body = Buffer.from(
        `{"type":"pay-in","data":{"orderId":"mem-${String(j).padStart(6, '0')}","pad":"${pad}"}}`,
      )
      appends.push(
        store.append({
          id: `evt_mem_${j}`,
          service: 'cpg',
          acceptedAt: Date.now(),
          signature: 'f'.repeat(64),
          orderId: `mem-${j}`,
          merchantOrderId: null,
          status: null,
          product: 'cpg-pay-in',
          final: 'unknown',
          recovered: null,
          deadline: null,
          body,
        }),
      )
    }
    await Promise.all(appends)
  }
  await store.close()
  return dataDir
}

/** The relay's peak resident memory so far, in KiB (VmHWM). */
const peakKiB = (relay: RelayProcess) =>
  Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${relay.child.pid}/status`, 'utf8'))?.[1])

async function drain(source: string, forwardUrl: string, delivered: () => Promise<number>) {
  const dataDir = tempDir('tylt-relay-drain-')
  cpSync(source, dataDir, { recursive: true })
  const relay = await startRelay(
    { TYLT_SECRET_CPG: SECRETS.cpg, DATA_DIR: dataDir, FORWARD_URL: forwardUrl, LOG_LEVEL: 'warn' },
    { cwd: dataDir },
  )
  await eventually(delivered, (n) => n >= EVENTS, 240_000)
  await eventually(
    () => relay.metrics(),
    (text) => sample(text, 'tylt_relay_pending_events') === 0,
  )
  const peak = peakKiB(relay)
  expect(await relay.stop()).toBe(0)
  return peak
}

describe('memory while draining a backlog of the largest bodies', () => {
  it(`${EVENTS} pending ${BODY_BYTES / 1000} KB events to a real Redis and a real HTTP consumer, peak RSS under 256 MiB`, async () => {
    expect(BODY_BYTES).toBeLessThanOrEqual(DEFAULTS.BODY_LIMIT)
    const source = await backlog()

    const port = await freePort()
    const redisServer = await startProcess('redis-server', redisServerArgs(port), port)
    onTestFinished(() => stopProcess(redisServer))
    const redis = new Redis(port, '127.0.0.1')
    onTestFinished(() => {
      redis.disconnect()
    })
    const redisPeak = await drain(`${source}`, `redis://127.0.0.1:${port}?stream=backlog`, () =>
      redis.xlen('backlog'),
    )

    const consumer = await startConsumer('/events', { keepBodies: false })
    const httpPeak = await drain(source, consumer.url, async () => consumer.received.length)
    expect(consumer.bytes).toBe(EVENTS * BODY_BYTES)
    expect(new Set(consumer.received).size).toBe(EVENTS)

    console.info(
      `peak RSS: Redis ${Math.round(redisPeak / 1024)} MiB, HTTP ${Math.round(httpPeak / 1024)} MiB`,
    )
    expect(redisPeak).toBeLessThan(LIMIT_KIB)
    expect(httpPeak).toBeLessThan(LIMIT_KIB)
    expect(await redis.xlen('backlog')).toBe(EVENTS)
  }, 600_000)
})
