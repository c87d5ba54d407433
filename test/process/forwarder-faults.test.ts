import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it, onTestFinished } from 'vitest'
import { STORE_FILE } from '../../src/constants.js'
import { FORWARDER_STORE_LIMITS } from '../../src/forward/forward-tuning.js'
import { type Consumer, startConsumer } from '../helpers/http-consumer.js'
import { eventually, SECRETS, sign, sleep, tempDir } from '../helpers/index.js'
import { listEvents, post, type RelayProcess, startRelay } from '../helpers/relay-process.js'

/** How long /readyz may say 200 in a row while events are pending and nothing is delivered (docs/operations.md). */
const STALL_BOUND_MS = FORWARDER_STORE_LIMITS.notReadyAfterMs + 6_000

const callback = (tag: string, i: number) =>
  Buffer.from(JSON.stringify({ type: 'pay-in', data: { orderId: `${tag}-${i}`, pad: 'x'.repeat(2000) } }))

async function accept(relay: RelayProcess, tag: string, count: number) {
  for (let i = 0; i < count; i++) {
    const body = callback(tag, i)
    expect(await post(`${relay.url}/webhooks/cpg`, body, sign(SECRETS.cpg, body))).toEqual({
      status: 200,
      body: 'ok',
    })
  }
}

/** What the readiness sampler saw. */
interface Readiness {
  /** The longest run of `/readyz` 200 answers while events were pending and none was delivered. */
  readonly longestReadyStallMs: number
  /** The body of each 503 `/readyz` answered while nothing was delivered, in order. */
  readonly refusedWhileStuck: readonly string[]
}

/**
 * Samples /readyz and the consumer's deliveries every 250 ms until stopped. A stall runs from the later of
 * the last delivery and the last answer other than 200 (a timeout is not ready, as for a load balancer).
 */
function watchReadiness(relay: RelayProcess, consumer: Consumer, expected: () => number) {
  let running = true
  let stallFrom = Date.now()
  let lastCount = consumer.received.length
  let longestReadyStallMs = 0
  const refusedWhileStuck: string[] = []
  const loop = (async () => {
    while (running) {
      const answer = await fetch(`${relay.opsUrl}/readyz`, { signal: AbortSignal.timeout(1_000) }).then(
        async (r) => ({ status: r.status, body: await r.text() }),
        () => undefined,
      )
      const now = Date.now()
      const moved = consumer.received.length !== lastCount || consumer.received.length >= expected()
      lastCount = consumer.received.length
      if (answer?.status === 503 && !moved) refusedWhileStuck.push(answer.body)
      if (moved || answer?.status !== 200) stallFrom = now
      else longestReadyStallMs = Math.max(longestReadyStallMs, now - stallFrom)
      await sleep(250)
    }
  })()
  return {
    /** What it saw so far, while it keeps sampling. */
    seen: (): Readiness => ({ longestReadyStallMs, refusedWhileStuck: [...refusedWhileStuck] }),
    stop: async (): Promise<Readiness> => {
      running = false
      await loop
      return { longestReadyStallMs, refusedWhileStuck }
    },
  }
}

describe('the forwarder on a real process, when the store fails under it', () => {
  it('a write lock held past busy_timeout while delivering: every event delivered once, no restart, never ready while stuck', async () => {
    const consumer = await startConsumer()
    consumer.answer = () => ({ status: 503 })
    const dataDir = tempDir('tylt-relay-lock-')
    const env = {
      TYLT_SECRET_CPG: SECRETS.cpg,
      DATA_DIR: dataDir,
      FORWARD_URL: consumer.url,
      LOG_LEVEL: 'info',
    }
    const relay = await startRelay(env, { cwd: dataDir })
    await accept(relay, 'lock', 20)
    await eventually(
      async () => consumer.offered.length,
      (n) => n >= 1,
    )

    // Another connection takes the write lock, as an operator's sqlite3 or a long `events replay` would.
    const other = new Database(join(dataDir, STORE_FILE))
    onTestFinished(() => {
      other.close()
    })
    other.exec('BEGIN IMMEDIATE')
    consumer.answer = () => ({ status: 200 })
    const watch = watchReadiness(relay, consumer, () => 20)
    await sleep(FORWARDER_STORE_LIMITS.notReadyAfterMs + 5_000)
    // While locked, the relay was not ready: its own probe cannot write.
    expect(consumer.received.length).toBeLessThan(20)
    other.exec('COMMIT')

    await eventually(
      async () => consumer.received.length,
      (n) => n >= 20,
      30_000,
    )
    expect((await watch.stop()).longestReadyStallMs).toBeLessThanOrEqual(STALL_BOUND_MS)
    expect(relay.child.exitCode).toBeNull()
    await eventually(
      () => fetch(`${relay.opsUrl}/readyz`).then((r) => r.status),
      (s) => s === 200,
    )
    const text = relay.output()
    expect(text).not.toContain('forwarder stopped')
    // The store's error was logged once per kind of operation, not once per retry, and with no stack.
    const busy = relay.stdout.filter(
      (l) => l.includes('"code":"SQLITE_BUSY"') && l.includes('forwarder cannot'),
    )
    expect(busy.length).toBeGreaterThanOrEqual(1)
    expect(busy.length).toBeLessThanOrEqual(4)
    expect(busy.join('\n')).not.toContain('"stack"')
    expect(await relay.stop()).toBe(0)
    // Delivered once each: a failed record of a delivery is retried, not re-sent.
    expect(new Set(consumer.received).size).toBe(20)
    expect(consumer.received).toHaveLength(20)
    expect(await listEvents(env, 'pending')).toEqual([])
  }, 120_000)

  it('a store locked for longer than the exit bound: the relay exits 1, and a restart delivers everything', async () => {
    const consumer = await startConsumer()
    consumer.answer = () => ({ status: 503 })
    const dataDir = tempDir('tylt-relay-lock-exit-')
    const env = { TYLT_SECRET_CPG: SECRETS.cpg, DATA_DIR: dataDir, FORWARD_URL: consumer.url }
    const relay = await startRelay(env, { cwd: dataDir })
    await accept(relay, 'exit', 10)
    await eventually(
      async () => consumer.offered.length,
      (n) => n >= 1,
    )
    const other = new Database(join(dataDir, STORE_FILE))
    onTestFinished(() => {
      if (other.open) other.close()
    })
    other.exec('BEGIN IMMEDIATE')
    consumer.answer = () => ({ status: 200 })
    const watch = watchReadiness(relay, consumer, () => 10)
    // No signal: the relay decides to exit by itself.
    const exit = await new Promise((resolve) => relay.child.once('exit', (code) => resolve(code)))
    expect(exit, relay.output()).toBe(1)
    expect((await watch.stop()).longestReadyStallMs).toBeLessThanOrEqual(STALL_BOUND_MS)
    expect(relay.output()).toContain('forwarder cannot use the store; exiting')
    other.exec('COMMIT')
    other.close()

    const again = await startRelay(env, { cwd: dataDir })
    await eventually(
      async () => (await listEvents(env, 'pending')).length,
      (n) => n === 0,
      30_000,
    )
    expect(await again.stop()).toBe(0)
    expect(new Set(consumer.received).size).toBe(10)
  }, 180_000)

  const canMount = process.getuid?.() === 0
  it.skipIf(!canMount)(
    'a full disk during a downstream outage, kept past the readiness bound: /readyz 503 while full; then space and downstream back: every event delivered without a restart',
    async () => {
      const disk = tempDir('tylt-relay-full-fwd-')
      expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', disk]).status).toBe(0)
      onTestFinished(() => {
        spawnSync('umount', ['-l', disk])
      })
      const dataDir = join(disk, 'data')
      mkdirSync(dataDir)
      const consumer = await startConsumer()
      consumer.answer = () => ({ status: 503 })
      const env = { TYLT_SECRET_CPG: SECRETS.cpg, DATA_DIR: dataDir, FORWARD_URL: consumer.url }
      const relay = await startRelay(env, { cwd: disk })
      await accept(relay, 'full', 30)
      await eventually(
        async () => consumer.offered.length,
        (n) => n >= 2,
      )

      const filler = join(disk, 'filler')
      try {
        execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k'], { stdio: 'ignore' })
      } catch {
        // dd ends with "No space left on device": the point.
      }
      // From here on, /readyz may not say 200 for long while nothing is delivered: the downstream is still
      // down, but the relay cannot record anything either.
      const watch = watchReadiness(relay, consumer, () => 30)
      // The failed attempts can no longer be recorded.
      await eventually(
        async () => relay.output(),
        (text) => text.includes('"code":"SQLITE_FULL"'),
        20_000,
      )
      // Kept full past the readiness bound (and short of the exit bound): the relay must have said it is not
      // ready before space returns.
      await sleep(FORWARDER_STORE_LIMITS.notReadyAfterMs + 5_000)
      expect(watch.seen().refusedWhileStuck.length, relay.output()).toBeGreaterThan(0)
      expect(relay.child.exitCode).toBeNull()
      rmSync(filler)
      consumer.answer = () => ({ status: 200 })
      await eventually(
        async () => consumer.received.length,
        (n) => n >= 30,
        60_000,
      )
      expect((await watch.stop()).longestReadyStallMs).toBeLessThanOrEqual(STALL_BOUND_MS)
      expect(relay.child.exitCode).toBeNull()
      expect(relay.output()).not.toContain('forwarder stopped')
      expect(new Set(consumer.received).size).toBe(30)
      expect(await relay.stop()).toBe(0)
      expect(await listEvents(env, 'pending')).toEqual([])
    },
    120_000,
  )
})
