import pino from 'pino'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { RelayEvent } from '../../src/core/event.js'
import type { SendResult, Sink } from '../../src/core/sink.js'
import { backoffDelay } from '../../src/forward/backoff.js'
import { Forwarder } from '../../src/forward/forwarder.js'
import { GroupCommitStore } from '../../src/store/group-commit-store.js'
import { relayEvent, tempDir } from '../helpers/index.js'

/**
 * A downstream whose answers the test scripts: it records every batch it was offered, and takes the
 * `delivered` count for each call from `script` (everything once the script runs out).
 */
class ScriptedSink implements Sink {
  readonly kind = 'http' as const
  readonly target = 'scripted'
  readonly batches: string[][] = []
  readonly delivered: string[] = []
  closed = false
  constructor(readonly script: number[] = []) {}
  async send(events: readonly RelayEvent[]): Promise<SendResult> {
    this.batches.push(events.map((e) => e.id))
    const count = Math.min(this.script.shift() ?? events.length, events.length)
    this.delivered.push(...events.slice(0, count).map((e) => e.id))
    return count === events.length ? { delivered: count } : { delivered: count, error: new Error('HTTP 503') }
  }
  async close() {
    this.closed = true
  }
}

async function setup(
  sink: Sink,
  retryMaxAgeMs = 60_000,
  options: { batchSize?: number; gatherMs?: number } = {},
) {
  const store = new GroupCommitStore(tempDir())
  const forwarder = new Forwarder({
    store,
    sink,
    logger: pino({ level: 'silent' }),
    retryMaxAgeMs,
    batchSize: 4,
    backoffBaseMs: 20,
    backoffMaxMs: 40,
    idlePollMs: 20,
    ...options,
  })
  onTestFinished(async () => {
    await forwarder.stop(0)
    await store.close()
  })
  const accept = async (count: number, acceptedAt = Date.now(), from = 0) => {
    for (let i = from; i < from + count; i++) {
      await store.append(
        relayEvent({ id: `evt_${i}`, service: 'cpg', acceptedAt, body: Buffer.from(`{"n":${i}}`) }),
      )
    }
  }
  return { store, forwarder, accept }
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `evt_${i}`)

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe('Forwarder', () => {
  it('delivers in acceptance order, in batches, and marks them delivered', async () => {
    const sink = new ScriptedSink()
    const { store, forwarder, accept } = await setup(sink)
    await accept(10)
    forwarder.start()
    await until(async () => (await store.stats()).pending === 0)
    expect(sink.delivered).toEqual(ids(10))
    expect(sink.batches.map((b) => b.length)).toEqual([4, 4, 2])
  })

  it("records a batch's deliveries and their attempts in one store write, with the send's duration", async () => {
    const sink = new ScriptedSink()
    const { store, forwarder, accept } = await setup(sink)
    const writes: string[] = []
    for (const name of ['markDelivered', 'recordFailure', 'markRefused'] as const) {
      const write = store[name].bind(store) as (...args: unknown[]) => Promise<void>
      store[name] = ((...args: unknown[]) => {
        writes.push(name)
        return write(...args)
      }) as never
    }
    await accept(10)
    forwarder.start()
    await until(async () => (await store.stats()).pending === 0)
    expect(writes).toEqual(['markDelivered', 'markDelivered', 'markDelivered'])
    for (const id of ids(10)) {
      const history = await store.attempts(id)
      expect(history).toEqual([
        {
          at: expect.any(Number),
          downstream: 'scripted',
          outcome: 'delivered',
          error: null,
          durationMs: expect.any(Number),
          status: null,
          answer: null,
        },
      ])
      expect(history[0]!.durationMs).toBeGreaterThanOrEqual(0)
    }
  })

  it('after a small batch, lets the next one gather what arrives meanwhile', async () => {
    const sink = new ScriptedSink()
    const { store, forwarder, accept } = await setup(sink, 60_000, { batchSize: 8, gatherMs: 300 })
    await accept(1)
    forwarder.start()
    await until(() => sink.batches.length === 1)
    // One at a time, further apart than the idle poll: without gathering each would travel alone.
    for (const n of [1, 2, 3]) {
      await accept(1, Date.now(), n)
      await new Promise((resolve) => setTimeout(resolve, 40))
    }
    await until(async () => (await store.stats()).pending === 0)
    expect(sink.batches).toEqual([['evt_0'], ['evt_1', 'evt_2', 'evt_3']])
  })

  it('after a failure mid-batch, keeps the confirmed prefix and retries from the failed event alone (one probe)', async () => {
    const sink = new ScriptedSink([2, 0, 0])
    const { store, forwarder, accept } = await setup(sink)
    await accept(6)
    forwarder.start()
    await until(async () => (await store.stats()).pending === 0)
    expect(sink.batches).toEqual([ids(4), ['evt_2'], ['evt_2'], ['evt_2'], ['evt_3', 'evt_4', 'evt_5']])
    expect(sink.delivered).toEqual(ids(6))
  })

  it('turns events still failing after RETRY_MAX_AGE into dead letters, and forwards nothing more of them', async () => {
    const sink = new ScriptedSink(Array.from({ length: 100 }, () => 0))
    const { store, forwarder, accept } = await setup(sink, 1_000)
    await accept(3, Date.now() - 5_000)
    forwarder.start()
    await until(async () => (await store.stats()).dead === 3)
    expect(await store.stats()).toMatchObject({ pending: 0, dead: 3 })
    expect(sink.delivered).toEqual([])
    const offered = sink.batches.length
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(sink.batches.length).toBe(offered)
  })

  it('on stop, keeps forwarding while the downstream takes events, until drained, then closes the sink', async () => {
    const sink = new ScriptedSink()
    const { forwarder, accept } = await setup(sink)
    await accept(5)
    forwarder.start()
    expect(await forwarder.stop(5_000)).toBe(true)
    expect(sink.delivered).toEqual(ids(5))
    expect(sink.closed).toBe(true)
  })

  it('on stop, ends the drain at the first failure: the events stay pending, the stop does not wait for the grace', async () => {
    const sink = new ScriptedSink(Array.from({ length: 1000 }, () => 0))
    const { store, forwarder, accept } = await setup(sink)
    await accept(2)
    forwarder.start()
    await until(() => sink.batches.length >= 1)
    const offered = sink.batches.length
    const started = performance.now()
    expect(await forwarder.stop(60_000)).toBe(false)
    expect(performance.now() - started).toBeLessThan(5_000)
    expect((await store.stats()).pending).toBe(2)
    expect(sink.closed).toBe(true)
    // Nothing more is offered once stopped.
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(sink.batches.length).toBeLessThanOrEqual(offered + 1)
  })
})

describe('backoffDelay', () => {
  it('grows exponentially with jitter, capped', () => {
    expect(backoffDelay(1, 500, 30_000, () => 0)).toBe(250)
    expect(backoffDelay(1, 500, 30_000, () => 1)).toBe(500)
    expect(backoffDelay(4, 500, 30_000, () => 1)).toBe(4_000)
    expect(backoffDelay(30, 500, 30_000, () => 1)).toBe(30_000)
    expect(backoffDelay(30, 500, 30_000, () => 0)).toBe(15_000)
  })
})
