import { Writable } from 'node:stream'
import pino from 'pino'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { RelayEvent } from '../../src/core/event.js'
import type { EventStore } from '../../src/core/event-store.js'
import type { SendResult, Sink } from '../../src/core/sink.js'
import { Forwarder, type ForwarderOptions } from '../../src/forward/forwarder.js'
import { createMetrics } from '../../src/ops/metrics.js'
import { GroupCommitStore } from '../../src/store/group-commit-store.js'
import { relayEvent, sample, tempDir } from '../helpers/index.js'

/** The real store, whose writes (or reads) fail while `failing` says so, with SQLite's own error. */
function flaky(store: GroupCommitStore, failing: (operation: string) => boolean): EventStore {
  const busy = () => Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' })
  return new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) =>
        failing(String(name)) ? Promise.reject(busy()) : value.apply(target, args)
    },
  })
}

/** A downstream that takes everything, except what `answer` decides otherwise. */
class Downstream implements Sink {
  readonly kind = 'http' as const
  readonly target = 'http://consumer.test/'
  readonly received: string[] = []
  constructor(readonly answer: (event: RelayEvent) => SendResult | 'hang' | undefined = () => undefined) {}
  async send(events: readonly RelayEvent[], signal?: AbortSignal): Promise<SendResult> {
    for (const [index, event] of events.entries()) {
      const answer = this.answer(event)
      if (answer === 'hang') {
        await new Promise((resolve) => signal?.addEventListener('abort', resolve))
        return { delivered: index, error: new Error('aborted') }
      }
      if (answer !== undefined) return { ...answer, delivered: index }
      this.received.push(event.id)
    }
    return { delivered: events.length }
  }
  async close() {}
}

function logLines() {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line))
      done()
    },
  })
  return { lines, logger: pino({ level: 'info' }, stream) }
}

async function setup(
  sink: Sink,
  options: Partial<ForwarderOptions> & { failing?: (op: string) => boolean } = {},
) {
  const real = new GroupCommitStore(tempDir())
  const store = options.failing === undefined ? real : flaky(real, options.failing)
  const { lines, logger } = logLines()
  const metrics = createMetrics({ stats: () => real.stats(), downstreams: () => [forwarder.status()] })
  const forwarder = new Forwarder({
    store,
    sink,
    logger,
    observer: metrics.forwarder(sink),
    retryMaxAgeMs: 60_000,
    batchSize: 4,
    backoffBaseMs: 10,
    backoffMaxMs: 20,
    idlePollMs: 20,
    ...options,
  })
  onTestFinished(async () => {
    await forwarder.stop(0)
    await real.close()
  })
  const accept = async (count: number, from = 0, service = 'cpg', acceptedAt = Date.now()) => {
    for (let i = from; i < from + count; i++) {
      await real.append(relayEvent({ id: `evt_${i}`, service, acceptedAt, body: Buffer.from(`{"n":${i}}`) }))
    }
  }
  return { store: real, forwarder, accept, lines, metrics }
}

const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `evt_${from + i}`)

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** The store's error was logged once, as `message`, without a stack, and its recovery once. */
function expectOneStoreFailure(lines: readonly Record<string, unknown>[], message: string) {
  const failures = lines.filter((l) => l.code === 'SQLITE_BUSY')
  expect(failures).toEqual([expect.objectContaining({ msg: message, level: 50 })])
  expect(failures[0]).not.toHaveProperty('err')
  expect(lines.filter((l) => l.msg === 'store usable again')).toHaveLength(1)
}

describe('Forwarder and a failing store', () => {
  for (const operation of ['pending', 'markDelivered'] as const) {
    it(`keeps going through ${operation} failures, logs them once, and delivers everything once the store answers`, async () => {
      let broken = true
      const sink = new Downstream()
      const { store, forwarder, accept, lines } = await setup(sink, {
        failing: (op) => broken && op === operation,
      })
      await accept(6)
      forwarder.start()
      await new Promise((resolve) => setTimeout(resolve, 600))
      expect(forwarder.status()).toMatchObject({
        up: false,
        lastError: expect.stringContaining('SQLITE_BUSY'),
      })
      broken = false
      await until(async () => (await store.stats()).pending === 0)
      expect(forwarder.status().up).toBe(true)
      // A failed markDelivered is retried for the same batch, not re-sent.
      expect(sink.received).toEqual(ids(0, 6))
      const failures = lines.filter((l) => l.code === 'SQLITE_BUSY')
      expect(failures).toHaveLength(1)
      expect(failures[0]).not.toHaveProperty('err')
      expect(lines.some((l) => l.msg === 'store usable again')).toBe(true)
    })
  }

  it('keeps going through recordFailure failures: the attempt is recorded once the store answers, never re-sent meanwhile, logged once', async () => {
    let broken = true
    let down = true
    const offered: string[] = []
    const sink = new Downstream((e) => {
      offered.push(e.id)
      return down && e.id === 'evt_1'
        ? { delivered: 0, error: new Error('downstream answered HTTP 503') }
        : undefined
    })
    const { store, forwarder, accept, lines } = await setup(sink, {
      failing: (op) => broken && op === 'recordFailure',
    })
    await accept(4)
    forwarder.start()
    await new Promise((resolve) => setTimeout(resolve, 600))
    // The write is retried, not the send: the line waits on the failed event.
    expect(offered).toEqual(['evt_0', 'evt_1'])
    expect(await store.attempts('evt_1')).toEqual([])
    expect(forwarder.status()).toMatchObject({ up: false, lastError: expect.stringContaining('SQLITE_BUSY') })
    broken = false
    await until(async () => (await store.attempts('evt_1')).length >= 1)
    expect((await store.attempts('evt_1'))[0]).toMatchObject({
      outcome: 'failed',
      error: 'HTTP_503: downstream answered HTTP 503',
    })
    down = false
    await until(async () => (await store.stats()).pending === 0)
    expect(sink.received).toEqual(ids(0, 4))
    expectOneStoreFailure(lines, 'forwarder cannot record a failed attempt in the store; retrying')
  })

  it('keeps going through markRefused failures: the refused event becomes a dead letter once the store answers, the line waits for it, logged once', async () => {
    let broken = true
    const offered: string[] = []
    const sink = new Downstream((e) => {
      offered.push(e.id)
      return e.id === 'evt_1'
        ? { delivered: 0, permanent: true, error: new Error('downstream answered HTTP 413') }
        : undefined
    })
    const { store, forwarder, accept, lines } = await setup(sink, {
      failing: (op) => broken && op === 'markRefused',
    })
    await accept(4)
    forwarder.start()
    await new Promise((resolve) => setTimeout(resolve, 600))
    expect(offered).toEqual(['evt_0', 'evt_1'])
    expect(sink.received).toEqual(['evt_0'])
    expect(await store.get('evt_1')).toMatchObject({ state: 'pending' })
    expect(forwarder.status()).toMatchObject({ up: false, lastError: expect.stringContaining('SQLITE_BUSY') })
    broken = false
    await until(async () => (await store.stats()).pending === 0)
    expect(sink.received).toEqual(['evt_0', 'evt_2', 'evt_3'])
    expect(offered.filter((id) => id === 'evt_1')).toHaveLength(1)
    expect(await store.get('evt_1')).toMatchObject({ state: 'dead', attempts: 1 })
    expect(await store.attempts('evt_1')).toEqual([
      expect.objectContaining({ outcome: 'refused', error: 'HTTP_413: downstream answered HTTP 413' }),
    ])
    expect(lines.filter((l) => l.eventId === 'evt_1')).toHaveLength(1)
    expectOneStoreFailure(lines, 'forwarder cannot record a refusal in the store; retrying')
  })

  it('keeps going through expire failures: the expired events become dead letters once the store answers, logged once', async () => {
    let broken = true
    const offered: string[] = []
    const sink = new Downstream((e) => {
      offered.push(e.id)
      return { delivered: 0, error: new Error('downstream answered HTTP 503') }
    })
    const { store, forwarder, accept, lines } = await setup(sink, {
      retryMaxAgeMs: 1_000,
      failing: (op) => broken && op === 'expire',
    })
    await accept(3, 0, 'cpg', Date.now() - 5_000)
    forwarder.start()
    await new Promise((resolve) => setTimeout(resolve, 600))
    // The attempt was recorded; turning the events into dead letters is what waits.
    expect(offered).toEqual(['evt_0'])
    expect(await store.stats()).toMatchObject({ pending: 3, dead: 0 })
    expect(forwarder.status()).toMatchObject({ lastError: expect.stringContaining('SQLITE_BUSY') })
    broken = false
    await until(async () => (await store.stats()).dead === 3)
    expect(offered).toEqual(['evt_0'])
    const expired = lines.filter(
      (l) => l.msg === 'events failing for longer than RETRY_MAX_AGE became dead letters',
    )
    expect(expired).toEqual([expect.objectContaining({ eventId: 'evt_0', dead: 3 })])
    expectOneStoreFailure(
      lines,
      'forwarder cannot turn expired events into dead letters in the store; retrying',
    )
  })

  it('is not ready past the bound, and tells the process to exit past the further one', async () => {
    const fatal: unknown[] = []
    const { forwarder, accept } = await setup(new Downstream(), {
      failing: (op) => op === 'pending',
      storeLimits: { notReadyAfterMs: 300, exitAfterMs: 900 },
      onFatal: (err) => fatal.push(err),
    })
    await accept(1)
    forwarder.start()
    expect(forwarder.notReadyReason()).toBeUndefined()
    await until(() => forwarder.notReadyReason() !== undefined)
    expect(fatal).toEqual([])
    await until(() => fatal.length === 1)
    expect(forwarder.notReadyReason()).toMatch(/cannot use the store/)
  })

  it('stays ready through a downstream outage: the store still records every attempt', async () => {
    const { forwarder, accept, store } = await setup(
      new Downstream(() => ({ delivered: 0, error: new Error('downstream answered HTTP 503') })),
      { storeLimits: { notReadyAfterMs: 100, exitAfterMs: 200 }, onFatal: () => expect.fail('no exit') },
    )
    await accept(2)
    forwarder.start()
    await until(async () => ((await store.get('evt_0'))?.attempts ?? 0) >= 3)
    expect(forwarder.notReadyReason()).toBeUndefined()
    expect(forwarder.status()).toMatchObject({ up: false, lastError: expect.stringContaining('HTTP_503') })
  })
})

describe('Forwarder and permanent refusals', () => {
  it('dead-letters the refused event at once, with the answer recorded, and delivers the rest in order', async () => {
    const sink = new Downstream((e) =>
      e.id === 'evt_2'
        ? { delivered: 0, permanent: true, error: new Error('downstream answered HTTP 413') }
        : undefined,
    )
    const { store, forwarder, accept, lines, metrics } = await setup(sink)
    await accept(7)
    forwarder.start()
    await until(async () => (await store.stats()).pending === 0)
    expect(sink.received).toEqual([...ids(0, 2), ...ids(3, 7)])
    expect(await store.get('evt_2')).toMatchObject({ state: 'dead', attempts: 1 })
    expect(await store.attempts('evt_2')).toEqual([
      expect.objectContaining({ outcome: 'refused', error: 'HTTP_413: downstream answered HTTP 413' }),
    ])
    const refusal = lines.find((l) => l.eventId === 'evt_2')
    expect(refusal).toMatchObject({ code: 'HTTP_413', error: 'downstream answered HTTP 413' })
    expect(refusal).not.toHaveProperty('err')
    const text = await metrics.registry.metrics()
    expect(sample(text, 'tylt_relay_events_forwarded_total', { outcome: 'refused' })).toBe(1)
    expect(sample(text, 'tylt_relay_forwarder_up', { downstream: sink.target })).toBe(1)
  })

  it('keeps an outage an outage: nothing after the failing event moves, nothing becomes a dead letter', async () => {
    let down = true
    const sink = new Downstream((e) =>
      down && e.id === 'evt_1'
        ? { delivered: 0, error: new Error('downstream answered HTTP 503') }
        : undefined,
    )
    const { store, forwarder, accept } = await setup(sink)
    await accept(4)
    forwarder.start()
    await until(async () => ((await store.get('evt_1'))?.attempts ?? 0) >= 3)
    expect(sink.received).toEqual(['evt_0'])
    down = false
    await until(async () => (await store.stats()).pending === 0)
    expect(sink.received).toEqual(ids(0, 4))
    expect((await store.stats()).dead).toBe(0)
  })
})

describe('Forwarder and the clock', () => {
  it('a forward jump of the wall clock during an outage dead-letters nothing', async () => {
    let jump = 0
    const sink = new Downstream(() => ({ delivered: 0, error: new Error('downstream answered HTTP 503') }))
    const { store, forwarder, accept } = await setup(sink, {
      retryMaxAgeMs: 3_600_000,
      now: () => Date.now() + jump,
    })
    await accept(3)
    forwarder.start()
    await until(async () => ((await store.get('evt_0'))?.attempts ?? 0) >= 1)
    jump = 100 * 3_600_000
    const before = (await store.get('evt_0'))!.attempts
    await until(async () => (await store.get('evt_0'))!.attempts >= before + 3)
    expect(await store.stats()).toMatchObject({ pending: 3, dead: 0 })
  })

  it('still dead-letters what truly failed for longer than RETRY_MAX_AGE', async () => {
    const sink = new Downstream(() => ({ delivered: 0, error: new Error('downstream answered HTTP 503') }))
    const { store, forwarder, accept } = await setup(sink, { retryMaxAgeMs: 1_000 })
    await accept(3, 0, 'cpg', Date.now() - 5_000)
    forwarder.start()
    await until(async () => (await store.stats()).dead === 3)
  })
})

describe('Forwarder stop', () => {
  it('aborts a send that never answers and returns within the grace, the event still pending', async () => {
    const sink = new Downstream(() => 'hang')
    const { store, forwarder, accept } = await setup(sink)
    await accept(2)
    forwarder.start()
    await new Promise((resolve) => setTimeout(resolve, 100))
    const started = performance.now()
    expect(await forwarder.stop(10_000)).toBe(false)
    // The drain ends after DRAIN.stallMs without progress, well before the grace.
    expect(performance.now() - started).toBeLessThan(4_000)
    expect((await store.stats()).pending).toBe(2)
  })

  it('returns within the grace even when the sink ignores the abort', async () => {
    const sink: Sink = {
      kind: 'http',
      target: 'http://deaf.test/',
      send: () => new Promise<SendResult>(() => {}),
      close: () => new Promise<void>(() => {}),
    }
    const { forwarder, accept } = await setup(sink)
    await accept(1)
    forwarder.start()
    const started = performance.now()
    await forwarder.stop(1_000)
    expect(performance.now() - started).toBeLessThan(1_000 + 600)
  })
})

describe('Forwarder per service', () => {
  it('reads only its services and expires only theirs', async () => {
    const sink = new Downstream()
    const { store, forwarder, accept } = await setup(sink, { services: ['demo'] })
    await accept(2, 0, 'cpg')
    await accept(2, 2, 'demo')
    forwarder.start()
    await until(() => sink.received.length === 2)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(sink.received).toEqual(['evt_2', 'evt_3'])
    expect((await store.stats()).pending).toBe(2)
  })
})
