import { describe, expect, it, onTestFinished } from 'vitest'
import { ATTEMPTS_KEPT, type HasDownstream, NO_ANSWER, type RelayEvent } from '../../../src/core/event.js'
import type { EventStore } from '../../../src/core/event-store.js'
import { ADAPTERS } from './adapters.js'

const T0 = 1_700_000_000_000

const event = (i: number, overrides: Partial<RelayEvent> = {}): RelayEvent => ({
  id: `evt_${i}`,
  service: 'cpg',
  acceptedAt: T0 + i * 1_000,
  signature: 'ab'.repeat(32),
  orderId: `ord-${i}`,
  merchantOrderId: `m-${i}`,
  status: 'Completed',
  product: 'cpg-pay-in',
  final: 'true',
  recovered: null,
  deadline: null,
  body: Buffer.from(`{"i":${i},"text":"\u00e9\u20b9","raw":"\\u0000"}`),
  ...overrides,
})

describe.each(ADAPTERS)('EventStore on $name', (adapter) => {
  async function open(hasDownstream?: HasDownstream): Promise<EventStore> {
    const store = await adapter.open(hasDownstream)
    onTestFinished(() => store.close())
    return store
  }
  const ids = (events: readonly { id: string }[]) => events.map((e) => e.id)
  const budget = { limit: 1_000, maxBytes: 1 << 24 }

  it('stores an event once: true when new, false for a duplicate, also among concurrent appends', async () => {
    const store = await open()
    const results = await Promise.all([
      ...Array.from({ length: 100 }, (_, i) => store.append(event(i))),
      store.append(event(7)),
      store.append(event(42)),
    ])
    expect(results.filter(Boolean)).toHaveLength(100)
    expect(results.slice(100)).toEqual([false, false])
    expect(await store.append(event(3))).toBe(false)
    expect((await store.stats()).pending).toBe(100)
  })

  it('gives back every field as appended, body byte-exact, seq in acceptance order', async () => {
    const store = await open()
    const binary = Buffer.from([0, 255, 254, 10, 13, 0x80])
    await store.append(event(1))
    await store.append(
      event(2, {
        orderId: null,
        merchantOrderId: null,
        status: null,
        product: 'unknown',
        final: 'unknown',
        recovered: 'quarantine',
        body: binary,
      }),
    )
    const first = await store.get('evt_1')
    const second = await store.get('evt_2')
    expect(first).toMatchObject({
      ...event(1),
      body: event(1).body,
      state: 'pending',
      attempts: 0,
      lastError: null,
      lastAttemptAt: null,
      deliveredAt: null,
      deliveredTo: null,
      retrySince: event(1).acceptedAt,
    })
    expect(Buffer.compare(second!.body, binary)).toBe(0)
    expect(second).toMatchObject({
      orderId: null,
      merchantOrderId: null,
      status: null,
      recovered: 'quarantine',
    })
    expect(second!.seq).toBeGreaterThan(first!.seq)
    expect(typeof first!.seq).toBe('number')
    expect(await store.get('evt_nope')).toBeUndefined()
    expect(await store.attempts('evt_nope')).toEqual([])
  })

  it('hands out pending events oldest first within the count, the byte budget and the services asked for', async () => {
    const store = await open()
    for (let i = 0; i < 6; i++)
      await store.append(event(i, { service: i % 2 === 0 ? 'cpg' : 'upi', body: Buffer.alloc(100, i) }))
    expect(ids(await store.pending(budget))).toEqual(['evt_0', 'evt_1', 'evt_2', 'evt_3', 'evt_4', 'evt_5'])
    expect(ids(await store.pending({ ...budget, limit: 2 }))).toEqual(['evt_0', 'evt_1'])
    expect(ids(await store.pending({ ...budget, maxBytes: 250 }))).toEqual(['evt_0', 'evt_1'])
    expect(ids(await store.pending({ ...budget, maxBytes: 300 }))).toEqual(['evt_0', 'evt_1', 'evt_2'])
    // A single event larger than the budget still moves.
    expect(ids(await store.pending({ ...budget, maxBytes: 10 }))).toEqual(['evt_0'])
    expect(ids(await store.pending({ ...budget, services: ['upi'] }))).toEqual(['evt_1', 'evt_3', 'evt_5'])
    expect(ids(await store.pending({ ...budget, services: ['upi'], maxBytes: 150 }))).toEqual(['evt_1'])
    expect(await store.pending({ ...budget, services: [] })).toEqual([])
    expect(ids(await store.pending({ ...budget, services: ['cpg', 'upi'], limit: 3 }))).toEqual([
      'evt_0',
      'evt_1',
      'evt_2',
    ])
  })

  it('marks delivered only pending events, with the confirming downstream; they leave the line', async () => {
    const store = await open()
    for (let i = 0; i < 4; i++) await store.append(event(i))
    const [a, b, c] = await store.pending(budget)
    await store.markRefused(c!.seq, T0 + 50, 'redis://x', 'refused')
    await store.markDelivered([a!.seq, b!.seq, c!.seq], T0 + 99, 'redis://q/stream')
    expect(ids(await store.pending(budget))).toEqual(['evt_3'])
    expect(await store.get('evt_0')).toMatchObject({
      state: 'delivered',
      deliveredAt: T0 + 99,
      deliveredTo: 'redis://q/stream',
      attempts: 1,
      lastAttemptAt: T0 + 99,
    })
    expect(await store.get('evt_2')).toMatchObject({ state: 'dead', deliveredAt: null, deliveredTo: null })
    expect(await store.stats()).toEqual({ pending: 1, dead: 1, oldestPendingAt: event(3).acceptedAt })
  })

  it('records failures, keeping the newest ATTEMPTS_KEPT of them while counting every one', async () => {
    const store = await open()
    await store.append(event(1))
    const [e] = await store.pending(budget)
    const total = ATTEMPTS_KEPT + 5
    for (let k = 0; k < total; k++) await store.recordFailure(e!.seq, T0 + k, 'http://x', `boom ${k}`)
    const stored = await store.get('evt_1')
    expect(stored).toMatchObject({
      state: 'pending',
      attempts: total,
      lastError: `boom ${total - 1}`,
      lastAttemptAt: T0 + total - 1,
    })
    const history = await store.attempts('evt_1')
    expect(history).toHaveLength(ATTEMPTS_KEPT)
    expect(history[0]).toEqual({
      at: T0 + 5,
      downstream: 'http://x',
      outcome: 'failed',
      error: 'boom 5',
      ...NO_ANSWER,
    })
    expect(history.at(-1)).toEqual({
      at: T0 + total - 1,
      downstream: 'http://x',
      outcome: 'failed',
      error: `boom ${total - 1}`,
      ...NO_ANSWER,
    })
  })

  it('keeps every attempt, successful ones included, with its duration and answer, in order', async () => {
    const store = await open()
    for (let i = 0; i < 3; i++) await store.append(event(i))
    const [a, b, c] = await store.pending(budget)
    const failed = { durationMs: 12, status: 500, answer: 'busy' }
    await store.recordFailure(
      a!.seq,
      T0 + 1,
      'http://x',
      'HTTP_500: HTTP 500 Internal Server Error: busy',
      failed,
    )
    await store.recordFailure(
      a!.seq,
      T0 + 2,
      'http://x',
      'HTTP_500: HTTP 500 Internal Server Error: busy',
      failed,
    )
    await store.markDelivered([a!.seq, b!.seq], T0 + 3, 'http://x', [
      { durationMs: 7, status: 200, answer: 'ok' },
      { durationMs: 8, status: 204, answer: null },
    ])
    const history = await store.attempts('evt_0')
    expect(history.map((h) => [h.at, h.outcome, h.status, h.error === null])).toEqual([
      [T0 + 1, 'failed', 500, false],
      [T0 + 2, 'failed', 500, false],
      [T0 + 3, 'delivered', 200, true],
    ])
    expect(history[2]).toEqual({
      at: T0 + 3,
      downstream: 'http://x',
      outcome: 'delivered',
      error: null,
      durationMs: 7,
      status: 200,
      answer: 'ok',
    })
    expect(await store.attempts('evt_1')).toEqual([
      {
        at: T0 + 3,
        downstream: 'http://x',
        outcome: 'delivered',
        error: null,
        durationMs: 8,
        status: 204,
        answer: null,
      },
    ])
    // A caller that measured nothing still leaves the delivery in the history; nothing for the event not sent.
    await store.markDelivered([c!.seq], T0 + 4, 'redis://q')
    expect(await store.attempts('evt_2')).toEqual([
      { at: T0 + 4, downstream: 'redis://q', outcome: 'delivered', error: null, ...NO_ANSWER },
    ])
    await store.markDelivered([c!.seq], T0 + 5, 'redis://q')
    expect(await store.get('evt_2')).toMatchObject({ attempts: 1, deliveredAt: T0 + 4 })
  })

  it('keeps the newest ATTEMPTS_KEPT attempts whatever their outcome: a delivery after many failures', async () => {
    const store = await open()
    await store.append(event(1))
    const [e] = await store.pending(budget)
    for (let k = 0; k < ATTEMPTS_KEPT; k++) await store.recordFailure(e!.seq, T0 + k, 'http://x', `boom ${k}`)
    await store.markDelivered([e!.seq], T0 + 100, 'http://x', [{ durationMs: 3, status: 200, answer: 'ok' }])
    const history = await store.attempts('evt_1')
    expect(history).toHaveLength(ATTEMPTS_KEPT)
    expect(history[0]).toMatchObject({ at: T0 + 1, outcome: 'failed', error: 'boom 1' })
    expect(history.at(-1)).toMatchObject({ at: T0 + 100, outcome: 'delivered', status: 200, durationMs: 3 })
    expect(await store.get('evt_1')).toMatchObject({ state: 'delivered', attempts: ATTEMPTS_KEPT + 1 })
    // Delivered again after a replay: still the newest ATTEMPTS_KEPT, the oldest failure gone.
    await store.replay(['evt_1'], T0 + 200)
    await store.markDelivered([e!.seq], T0 + 201, 'http://x')
    const again = await store.attempts('evt_1')
    expect(again).toHaveLength(ATTEMPTS_KEPT)
    expect(again[0]).toMatchObject({ at: T0 + 2, error: 'boom 2' })
    expect(again.slice(-2).map((h) => h.at)).toEqual([T0 + 100, T0 + 201])
  })

  it('keeps the newest ATTEMPTS_KEPT when retries run out too', async () => {
    const store = await open()
    await store.append(event(1))
    const [e] = await store.pending(budget)
    for (let k = 0; k < ATTEMPTS_KEPT; k++) await store.recordFailure(e!.seq, T0 + k, 'http://x', `boom ${k}`)
    expect(await store.expire(Number.MAX_SAFE_INTEGER, 'http://x', 'too old')).toBe(1)
    const history = await store.attempts('evt_1')
    expect(history).toHaveLength(ATTEMPTS_KEPT)
    expect(history[0]).toMatchObject({ error: 'boom 1' })
    expect(history.at(-1)).toMatchObject({ outcome: 'dead', error: 'too old', durationMs: null })
  })

  it('marks a refused event dead at once and moves the line on; never revives a delivered one', async () => {
    const store = await open()
    await store.append(event(1))
    await store.append(event(2))
    const [first, second] = await store.pending(budget)
    await store.markRefused(first!.seq, T0 + 5, 'http://x', '400 Bad Request')
    expect(ids(await store.pending(budget))).toEqual(['evt_2'])
    expect(await store.get('evt_1')).toMatchObject({
      state: 'dead',
      attempts: 1,
      lastError: '400 Bad Request',
      lastAttemptAt: T0 + 5,
    })
    expect(await store.attempts('evt_1')).toEqual([
      { at: T0 + 5, downstream: 'http://x', outcome: 'refused', error: '400 Bad Request', ...NO_ANSWER },
    ])
    await store.markDelivered([second!.seq], T0 + 6, 'http://x')
    await store.markRefused(second!.seq, T0 + 7, 'http://x', 'late')
    expect((await store.get('evt_2'))!.state).toBe('delivered')
  })

  it('expires pending events whose retry clock started before the cutoff, of the services given', async () => {
    const store = await open()
    for (let i = 0; i < 4; i++) await store.append(event(i, { service: i < 2 ? 'cpg' : 'upi' }))
    const [zero] = await store.pending(budget)
    await store.recordFailure(zero!.seq, T0 + 1, 'http://x', 'first error')
    expect(await store.expire(event(3).acceptedAt, 'http://x', 'too old', ['upi'])).toBe(1)
    expect(await store.get('evt_2')).toMatchObject({ state: 'dead', lastError: 'too old' })
    expect((await store.get('evt_3'))!.state).toBe('pending')
    expect(await store.expire(event(1).acceptedAt + 1, 'http://x', 'too old')).toBe(2)
    expect(await store.get('evt_0')).toMatchObject({ state: 'dead', lastError: 'first error' })
    expect((await store.attempts('evt_0')).map((a) => a.outcome)).toEqual(['failed', 'dead'])
    expect(ids(await store.pending(budget))).toEqual(['evt_3'])
    expect(await store.stats()).toEqual({ pending: 1, dead: 3, oldestPendingAt: event(3).acceptedAt })
  })

  it('prunes delivered events accepted before the cutoff, which may then be accepted again', async () => {
    const store = await open()
    for (let i = 0; i < 3; i++) await store.append(event(i))
    const [a, b] = await store.pending(budget)
    await store.recordFailure(a!.seq, T0, 'http://x', 'e')
    await store.markDelivered([a!.seq, b!.seq], T0 + 10, 'http://x')
    expect(await store.prune(event(1).acceptedAt)).toBe(1)
    expect(await store.get('evt_0')).toBeUndefined()
    expect(await store.attempts('evt_0')).toEqual([])
    expect((await store.get('evt_1'))!.state).toBe('delivered')
    expect((await store.get('evt_2'))!.state).toBe('pending')
    expect(await store.append(event(0))).toBe(true)
    expect(await store.append(event(1))).toBe(false)
  })

  it('lists newest first, narrowed by every filter', async () => {
    const store = await open()
    await store.append(event(1, { service: 'cpg', product: 'cpg-pay-in', status: 'Completed' }))
    await store.append(event(2, { service: 'upi', product: 'upi', status: 'Pending', orderId: 'shared' }))
    await store.append(
      event(3, { service: 'upi', product: 'upi', status: 'Completed', merchantOrderId: 'shared' }),
    )
    await store.append(event(4, { service: 'cpg', product: 'cpg-payout', status: 'Failed' }))
    const [one] = await store.pending({ ...budget, limit: 1 })
    await store.markRefused(one!.seq, T0, 'x', 'no')
    const list = async (q: object) => ids(await store.list({ limit: 100, ...q }))
    expect(await list({})).toEqual(['evt_4', 'evt_3', 'evt_2', 'evt_1'])
    expect(await list({ limit: 2 })).toEqual(['evt_4', 'evt_3'])
    expect(await list({ state: 'dead' })).toEqual(['evt_1'])
    expect(await list({ state: 'pending', service: 'cpg' })).toEqual(['evt_4'])
    expect(await list({ service: 'upi' })).toEqual(['evt_3', 'evt_2'])
    expect(await list({ product: 'upi', status: 'Completed' })).toEqual(['evt_3'])
    expect(await list({ status: 'Failed' })).toEqual(['evt_4'])
    expect(await list({ order: 'shared' })).toEqual(['evt_3', 'evt_2'])
    expect(await list({ order: 'ord-4' })).toEqual(['evt_4'])
    expect(await list({ since: event(2).acceptedAt, until: event(4).acceptedAt })).toEqual(['evt_3', 'evt_2'])
    const third = await store.get('evt_3')
    expect(await list({ beforeSeq: third!.seq })).toEqual(['evt_2', 'evt_1'])
    expect(await list({ service: 'nobody' })).toEqual([])
  })

  it('replays all or nothing, restarting the retry clock; replays every event of a state', async () => {
    const store = await open()
    for (let i = 0; i < 3; i++) await store.append(event(i))
    const [a, b, c] = await store.pending(budget)
    await store.markDelivered([a!.seq], T0 + 1, 'x')
    await store.markRefused(b!.seq, T0 + 2, 'x', 'no')
    await store.markRefused(c!.seq, T0 + 3, 'x', 'no')
    expect(await store.replay(['evt_0', 'evt_missing'], T0 + 10)).toEqual({
      queued: 0,
      missing: ['evt_missing'],
    })
    expect((await store.get('evt_0'))!.state).toBe('delivered')
    expect(await store.replay(['evt_0'], T0 + 10)).toEqual({ queued: 1, missing: [] })
    expect(await store.get('evt_0')).toMatchObject({
      state: 'pending',
      retrySince: T0 + 10,
      deliveredAt: null,
      deliveredTo: null,
    })
    expect(await store.replayState('dead', T0 + 20)).toBe(2)
    expect(await store.get('evt_2')).toMatchObject({ state: 'pending', retrySince: T0 + 20, attempts: 1 })
    expect(ids(await store.pending(budget))).toEqual(['evt_0', 'evt_1', 'evt_2'])
    expect(await store.replayState('dead', T0 + 30)).toBe(0)
  })

  it('keeps the events of a service without a downstream stored: never pending, replayed by service and time', async () => {
    const store = await open((service) => service !== 'demo')
    await store.append(event(1, { service: 'demo' }))
    await store.append(event(2))
    await store.append(event(3, { service: 'demo' }))
    await store.append(event(4, { service: 'other' }))
    expect(ids(await store.pending(budget))).toEqual(['evt_2', 'evt_4'])
    expect((await store.stats()).pending).toBe(2)
    expect([await store.count('stored'), await store.count('pending')]).toEqual([2, 2])
    expect(await store.append(event(1, { service: 'demo' }))).toBe(false)
    expect(ids(await store.list({ limit: 10, state: 'stored' }))).toEqual(['evt_3', 'evt_1'])
    expect(await store.get('evt_1')).toMatchObject({ state: 'stored', attempts: 0, retrySince: T0 + 1_000 })
    expect(await store.replayState('stored', T0 + 50, { services: ['other'] })).toBe(0)
    expect(await store.replayState('stored', T0 + 50, { services: ['demo'], since: T0 + 2_000 })).toBe(1)
    expect(ids(await store.pending(budget))).toEqual(['evt_2', 'evt_3', 'evt_4'])
    expect(await store.get('evt_3')).toMatchObject({ state: 'pending', retrySince: T0 + 50 })
    expect(await store.replayState('stored', T0 + 60, {})).toBe(1)
    expect(await store.count('stored')).toBe(0)
  })

  it('revives a dead letter of a service without a downstream as stored, not pending', async () => {
    const store = await open((service) => service !== 'demo')
    await store.append(event(1, { service: 'demo' }))
    await store.replay(['evt_1'], T0 + 1)
    const [dead] = await store.pending(budget)
    await store.markRefused(dead!.seq, T0 + 2, 'x', 'no')
    expect(await store.append(event(1, { service: 'demo', acceptedAt: T0 + 9_000 }))).toBe(true)
    expect(await store.get('evt_1')).toMatchObject({ state: 'stored', retrySince: T0 + 9_000 })
    expect(await store.pending(budget)).toEqual([])
  })

  it.runIf(adapter.revivesDeadLetters)(
    'revives a dead letter that is sent again: pending, retry clock restarted',
    async () => {
      const store = await open()
      await store.append(event(1))
      await store.append(event(2))
      const [dead, delivered] = await store.pending(budget)
      await store.markRefused(dead!.seq, T0 + 1, 'x', 'no')
      await store.markDelivered([delivered!.seq], T0 + 2, 'x')
      expect(await store.append(event(1, { acceptedAt: T0 + 500_000 }))).toBe(true)
      expect(await store.get('evt_1')).toMatchObject({
        state: 'pending',
        retrySince: T0 + 500_000,
        seq: dead!.seq,
        acceptedAt: event(1).acceptedAt,
        attempts: 1,
      })
      expect(await store.append(event(1, { acceptedAt: T0 + 600_000 }))).toBe(false)
      expect(await store.append(event(2, { acceptedAt: T0 + 600_000 }))).toBe(false)
      expect((await store.get('evt_2'))!.state).toBe('delivered')
      expect(ids(await store.pending(budget))).toEqual(['evt_1'])
    },
  )

  it('proves it takes writes, and refuses appends once closed', async () => {
    const store = await adapter.open()
    await store.probe()
    await store.append(event(1))
    await store.close()
    await expect(store.append(event(2))).rejects.toMatchObject({ code: 'TYLT_STORE_CLOSED', statusCode: 503 })
  })
})
