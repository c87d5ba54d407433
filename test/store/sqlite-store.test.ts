import { describe, expect, it, onTestFinished } from 'vitest'
import { ATTEMPTS_KEPT, NO_ANSWER, type RelayEvent } from '../../src/core/event.js'
import type { EventStore } from '../../src/core/event-store.js'
import { GroupCommitStore } from '../../src/store/group-commit-store.js'
import { tempDir } from '../helpers/index.js'

/** Each method of the EventStore port, through the SQLite adapter the relay runs on. */

const event = (i: number, extra: Partial<RelayEvent> = {}): RelayEvent => ({
  id: `evt_${i}`,
  service: 'cpg',
  acceptedAt: 1_000 + i,
  signature: 'c'.repeat(64),
  orderId: `ord-${i}`,
  merchantOrderId: `m-${i}`,
  status: 'Completed',
  product: 'cpg-pay-in',
  final: 'true',
  recovered: null,
  deadline: null,
  body: Buffer.from(`{"i":${i}}`),
  ...extra,
})

async function filled(events: readonly RelayEvent[]): Promise<EventStore> {
  const store = new GroupCommitStore(tempDir())
  onTestFinished(() => store.close())
  for (const e of events) await store.append(e)
  return store
}

const ids = (events: readonly { id: string }[]) => events.map((e) => e.id)

describe('the SQLite adapter of EventStore', () => {
  it('pending: oldest first, only the services asked for, within a byte budget of at least one event', async () => {
    const store = await filled([
      event(0),
      event(1, { service: 'upi', body: Buffer.alloc(600, 0x61) }),
      event(2, { body: Buffer.alloc(600, 0x62) }),
      event(3, { service: 'upi' }),
    ])
    expect(ids(await store.pending({ limit: 10, maxBytes: 1e9 }))).toEqual([
      'evt_0',
      'evt_1',
      'evt_2',
      'evt_3',
    ])
    expect(ids(await store.pending({ limit: 10, maxBytes: 1e9, services: ['upi'] }))).toEqual([
      'evt_1',
      'evt_3',
    ])
    expect(ids(await store.pending({ limit: 10, maxBytes: 1_000 }))).toEqual(['evt_0', 'evt_1'])
    expect(ids(await store.pending({ limit: 10, maxBytes: 1, services: ['upi'] }))).toEqual(['evt_1'])
    expect(ids(await store.pending({ limit: 1, maxBytes: 1e9 }))).toEqual(['evt_0'])
  })

  it('markDelivered: only pending events, recording when and to which downstream', async () => {
    const store = await filled([event(0), event(1)])
    const [a, b] = await store.pending({ limit: 2, maxBytes: 1e9 })
    await store.markRefused(b!.seq, 2_000, 'http://d/', 'HTTP 400 Bad Request')
    await store.markDelivered([a!.seq, b!.seq], 3_000, 'http://d/')
    expect(await store.get(a!.id)).toMatchObject({
      state: 'delivered',
      deliveredAt: 3_000,
      deliveredTo: 'http://d/',
      attempts: 1,
      lastAttemptAt: 3_000,
    })
    expect(await store.get(b!.id)).toMatchObject({ state: 'dead', deliveredAt: null, deliveredTo: null })
  })

  it('recordFailure and markRefused: counted, the last error kept, the newest ATTEMPTS_KEPT in the history', async () => {
    const store = await filled([event(0), event(1)])
    const [a, b] = await store.pending({ limit: 2, maxBytes: 1e9 })
    for (let n = 0; n < ATTEMPTS_KEPT + 5; n++)
      await store.recordFailure(a!.seq, 10_000 + n, 'redis://r', `fail ${n}`)
    expect(await store.get(a!.id)).toMatchObject({
      state: 'pending',
      attempts: ATTEMPTS_KEPT + 5,
      lastError: `fail ${ATTEMPTS_KEPT + 4}`,
      lastAttemptAt: 10_000 + ATTEMPTS_KEPT + 4,
    })
    const history = await store.attempts(a!.id)
    expect(history).toHaveLength(ATTEMPTS_KEPT)
    expect(history[0]).toEqual({
      at: 10_005,
      downstream: 'redis://r',
      outcome: 'failed',
      error: 'fail 5',
      ...NO_ANSWER,
    })
    expect(history.at(-1)?.error).toBe(`fail ${ATTEMPTS_KEPT + 4}`)

    await store.recordFailure(b!.seq, 20_000, 'redis://r', 'not connected')
    await store.markRefused(b!.seq, 20_001, 'redis://r', 'XADD to Redis refused: too large')
    expect(await store.get(b!.id)).toMatchObject({
      state: 'dead',
      attempts: 2,
      lastError: 'XADD to Redis refused: too large',
    })
    expect((await store.attempts(b!.id)).map((x) => x.outcome)).toEqual(['failed', 'refused'])
    expect(await store.attempts('evt_unknown')).toEqual([])
  })

  it('expire: pending events of the services given whose retry clock started before the cutoff', async () => {
    const store = await filled([event(0), event(1, { service: 'upi' }), event(2), event(5)])
    expect(await store.expire(1_003, 'd', 'retries ran out', ['cpg'])).toBe(2)
    expect((await store.list({ limit: 10, state: 'dead' })).map((e) => e.id)).toEqual(['evt_2', 'evt_0'])
    expect(await store.expire(1_003, 'd', 'retries ran out')).toBe(1)
    expect(await store.stats()).toEqual({ pending: 1, dead: 3, oldestPendingAt: 1_005 })
    expect((await store.attempts('evt_1')).map((a) => [a.outcome, a.error])).toEqual([
      ['dead', 'retries ran out'],
    ])
  })

  it('prune: only delivered events accepted before the cutoff, with their history; their ids are new again', async () => {
    const store = await filled([event(0), event(1), event(2)])
    const [a, b] = await store.pending({ limit: 2, maxBytes: 1e9 })
    await store.recordFailure(a!.seq, 5_000, 'd', 'x')
    await store.markDelivered([a!.seq, b!.seq], 6_000, 'd')
    expect(await store.prune(1_001)).toBe(1)
    expect(await store.get('evt_0')).toBeUndefined()
    expect(await store.attempts('evt_0')).toEqual([])
    expect(await store.get('evt_1')).toBeDefined()
    expect(await store.append(event(0))).toBe(true)
  })

  it('stats and probe: counts of an empty store, then of a busy one', async () => {
    const store = await filled([])
    expect(await store.stats()).toEqual({ pending: 0, dead: 0, oldestPendingAt: null })
    await store.probe()
    await store.append(event(7))
    expect(await store.stats()).toEqual({ pending: 1, dead: 0, oldestPendingAt: 1_007 })
  })

  it('list: newest first, each filter narrowing, paged by seq', async () => {
    const store = await filled([
      event(0),
      event(1, { service: 'upi', product: 'upi', status: 'Pending', merchantOrderId: 'shared' }),
      event(2, { orderId: 'shared' }),
      event(3),
    ])
    expect(ids(await store.list({ limit: 10 }))).toEqual(['evt_3', 'evt_2', 'evt_1', 'evt_0'])
    expect(ids(await store.list({ limit: 2 }))).toEqual(['evt_3', 'evt_2'])
    expect(ids(await store.list({ limit: 10, service: 'upi' }))).toEqual(['evt_1'])
    expect(ids(await store.list({ limit: 10, product: 'upi' }))).toEqual(['evt_1'])
    expect(ids(await store.list({ limit: 10, status: 'Pending' }))).toEqual(['evt_1'])
    expect(ids(await store.list({ limit: 10, order: 'shared' }))).toEqual(['evt_2', 'evt_1'])
    expect(ids(await store.list({ limit: 10, since: 1_001, until: 1_003 }))).toEqual(['evt_2', 'evt_1'])
    const [newest] = await store.list({ limit: 1 })
    expect(ids(await store.list({ limit: 10, beforeSeq: newest!.seq }))).toEqual(['evt_2', 'evt_1', 'evt_0'])
    expect(ids(await store.list({ limit: 10, state: 'dead' }))).toEqual([])
    expect(ids(await store.list({ limit: 10, service: 'cpg', order: 'shared' }))).toEqual(['evt_2'])
  })

  it('get: the whole event, bytes and metadata as accepted', async () => {
    const body = Buffer.from([0x7b, 0x00, 0xff, 0x7d])
    const accepted = event(4, { body, recovered: 'quarantine', final: 'unknown' })
    const store = await filled([accepted])
    const stored = await store.get('evt_4')
    expect(stored).toMatchObject({
      ...accepted,
      body: expect.any(Buffer),
      state: 'pending',
      attempts: 0,
      retrySince: 1_004,
    })
    expect(stored?.body.equals(body)).toBe(true)
    expect(await store.get('evt_nope')).toBeUndefined()
  })

  it('replay: all or nothing, restarting the retry clock; replayState: every event in one state', async () => {
    const store = await filled([event(0), event(1), event(2)])
    const [a, b, c] = await store.pending({ limit: 3, maxBytes: 1e9 })
    await store.markDelivered([a!.seq], 2_000, 'd')
    await store.markRefused(b!.seq, 2_000, 'd', 'HTTP 422 Unprocessable Entity')
    await store.markRefused(c!.seq, 2_000, 'd', 'HTTP 422 Unprocessable Entity')
    expect(await store.replay([a!.id, 'evt_missing'], 3_000)).toEqual({ queued: 0, missing: ['evt_missing'] })
    expect((await store.get(a!.id))?.state).toBe('delivered')
    expect(await store.replay([a!.id], 3_000)).toEqual({ queued: 1, missing: [] })
    expect(await store.get(a!.id)).toMatchObject({
      state: 'pending',
      retrySince: 3_000,
      deliveredAt: null,
      deliveredTo: null,
    })
    expect(await store.replayState('dead', 4_000)).toBe(2)
    expect(await store.stats()).toMatchObject({ pending: 3, dead: 0 })
    expect((await store.get(c!.id))?.retrySince).toBe(4_000)
    expect(await store.replayState('dead', 5_000)).toBe(0)
  })
})
