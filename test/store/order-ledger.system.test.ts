import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it, onTestFinished } from 'vitest'
import { STORE_FILE } from '../../src/constants.js'
import type { RelayEvent } from '../../src/core/event.js'
import type { EventStore } from '../../src/core/event-store.js'
import type { OrderLedger, OrderRecord } from '../../src/core/order-ledger.js'
import { GroupCommitStore } from '../../src/store/group-commit-store.js'
import { openPostgresStore } from '../../src/store/postgres/open-postgres.js'
import { PostgresOrderLedger } from '../../src/store/postgres/postgres-order-ledger.js'
import { MIGRATIONS } from '../../src/store/schema.js'
import { SqliteOrderLedger } from '../../src/store/sqlite-order-ledger.js'
import { relayEvent, tempDir } from '../helpers/index.js'
import { testSchema } from '../postgres/postgres-helper.js'
import { foldInTurn } from './fold-in-turn.js'

interface Pair {
  readonly store: EventStore
  readonly ledger: OrderLedger
  /** A second ledger on the same store, as another replica or a command opens it. */
  other(): Promise<OrderLedger>
}

const ADAPTERS: readonly { name: string; open(): Promise<Pair> }[] = [
  {
    name: 'SQLite',
    async open() {
      const dir = tempDir()
      const store = new GroupCommitStore(dir)
      const ledger = new SqliteOrderLedger(dir)
      onTestFinished(async () => {
        await ledger.close()
        await store.close()
      })
      return { store, ledger, other: async () => new SqliteOrderLedger(dir) }
    },
  },
  {
    name: 'PostgreSQL',
    async open() {
      const { storeUrl } = await testSchema()
      const store = await openPostgresStore(storeUrl)
      const ledger = await PostgresOrderLedger.open(storeUrl)
      onTestFinished(async () => {
        await ledger.close()
        await store.close()
      })
      return { store, ledger, other: () => PostgresOrderLedger.open(storeUrl) }
    },
  },
]

const GRACE = 60_000
const T0 = 1_800_000_000_000
let n = 0
const cpg = (status: string, final: RelayEvent['final'], fields: Partial<RelayEvent> = {}) =>
  relayEvent({
    id: `evt_ledger_${n++}`,
    service: 'cpg',
    acceptedAt: T0,
    product: 'cpg-pay-in',
    orderId: 'ord-1',
    merchantOrderId: 'M-1',
    status,
    final,
    deadline: Date.parse('2027-01-15T08:00:00.000Z'),
    body: Buffer.from(
      `{"data":{"orderId":"ord-1","status":"${status}","expiresAt":"2027-01-15T08:00:00.000Z"}}`,
    ),
    ...fields,
  })

describe.each(ADAPTERS)('the order ledger on $name', ({ open }) => {
  it('files an order from its events, due at its deadline plus the grace, until a final state', async () => {
    const { store, ledger } = await open()
    await store.append(cpg('Pending', 'false'))
    expect(await ledger.catchUp(GRACE)).toBe(1)
    expect(await ledger.catchUp(GRACE)).toBe(0)
    const deadline = Date.parse('2027-01-15T08:00:00.000Z')
    const [order] = await ledger.find('M-1')
    expect(order).toMatchObject({
      service: 'cpg',
      product: 'cpg-pay-in',
      orderKey: 'ord-1',
      orderId: 'ord-1',
      merchantOrderId: 'M-1',
      status: 'Pending',
      final: 'false',
      source: 'callback',
      firstSeen: T0,
      deadline,
      nextCheck: deadline + GRACE,
      checks: 0,
      abandonedAt: null,
    })
    expect(await ledger.due(deadline + GRACE - 1, 10)).toEqual([])
    expect((await ledger.due(deadline + GRACE, 10)).map((o) => o.orderKey)).toEqual(['ord-1'])

    await store.append(cpg('Completed', 'true', { recovered: 'reconcile', signature: '' }))
    await ledger.catchUp(GRACE)
    expect((await ledger.find('ord-1'))[0]).toMatchObject({
      status: 'Completed',
      source: 'reconcile',
      nextCheck: null,
    })
    expect(await ledger.due(Number.MAX_SAFE_INTEGER, 10)).toEqual([])
  })

  it('keeps a final success when a non-final callback arrives after it', async () => {
    const { store, ledger } = await open()
    await store.append(cpg('Completed', 'true'))
    await store.append(cpg('Pending', 'false', { acceptedAt: T0 + 1 }))
    await ledger.catchUp(GRACE)
    expect((await ledger.find('ord-1'))[0]).toMatchObject({
      status: 'Completed',
      final: 'true',
      lastSeen: T0 + 1,
    })
  })

  it('records checks and abandonment, and leaves abandoned orders out of the due ones', async () => {
    const { store, ledger } = await open()
    await store.append(cpg('Pending', 'false'))
    await ledger.catchUp(GRACE)
    const [order] = await ledger.find('ord-1')
    await ledger.recordCheck(order!, { nextCheck: T0 + 5, checks: 1, lastResult: 'not-found' })
    expect((await ledger.due(T0 + 5, 10)).map((o) => [o.checks, o.lastResult])).toEqual([[1, 'not-found']])
    await ledger.recordCheck(order!, {
      nextCheck: null,
      checks: 1,
      lastResult: 'abandoned',
      abandonedAt: T0 + 9,
    })
    expect(await ledger.due(Number.MAX_SAFE_INTEGER, 10)).toEqual([])
    expect((await ledger.abandoned(10)).map((o) => o.abandonedAt)).toEqual([T0 + 9])
  })

  it('records a check of an order it lacks as nothing: no error, no row', async () => {
    const { store, ledger } = await open()
    await store.append(cpg('Pending', 'false'))
    await ledger.catchUp(GRACE)
    const absent = { service: 'cpg', product: 'cpg-pay-in', orderKey: 'never-seen' } as const
    await ledger.recordCheck(absent, { nextCheck: T0 + 5, checks: 1, lastResult: 'not-found' })
    expect(await ledger.find('never-seen')).toEqual([])
    expect((await ledger.open(10)).map((o) => [o.orderKey, o.checks, o.lastResult])).toEqual([
      ['ord-1', 0, null],
    ])
  })

  it('folds each event once when two ledgers catch up on one store', async () => {
    const { store, ledger, other } = await open()
    const second = await other()
    onTestFinished(() => second.close())
    for (let i = 0; i < 30; i++)
      await store.append(cpg('Pending', 'false', { orderId: `o-${i}`, merchantOrderId: null }))
    const [a, b] = await Promise.all([ledger.catchUp(GRACE), second.catchUp(GRACE)])
    expect(a + b).toBe(30)
    expect(await ledger.due(Number.MAX_SAFE_INTEGER, 100)).toHaveLength(30)
  })

  it('folds the events committed when it starts, however many arrive meanwhile, and the rest next time', async () => {
    const { store, ledger } = await open()
    const pending = (i: number) => cpg('Pending', 'false', { orderId: `o-${i}`, merchantOrderId: null })
    for (let i = 0; i < 250; i++) await store.append(pending(i))
    // A steady flow of callbacks while it folds, BURST at a time: it must end all the same, with what was
    // committed at its start (a burst in flight then may commit as it reads where to stop).
    const BURST = 25
    let flowing = true
    let sent = 250
    const flow = (async () => {
      while (flowing) {
        const burst = Array.from({ length: BURST }, () => pending(sent++))
        await Promise.all(burst.map((event) => store.append(event)))
      }
    })()
    const folded = await ledger.catchUp(GRACE)
    flowing = false
    await flow
    expect(folded).toBeGreaterThanOrEqual(250)
    expect(folded).toBeLessThanOrEqual(250 + BURST)
    expect(await ledger.catchUp(GRACE)).toBe(sent - folded)
    expect(await ledger.due(Number.MAX_SAFE_INTEGER, 10_000)).toHaveLength(sent)
  })

  it.each([
    ['one catch-up', false],
    ['two catch-ups', true],
  ])("files Tylt's id under the record the merchant's id already names (%s)", async (_, between) => {
    const { store, ledger } = await open()
    const early = { orderId: null, merchantOrderId: 'M-9', deadline: null }
    await store.append(cpg('Pending', 'false', early))
    if (between) await ledger.catchUp(GRACE)
    await store.append(
      cpg('Completed', 'true', { orderId: 'ord-9', merchantOrderId: 'M-9', acceptedAt: T0 + 5 }),
    )
    await ledger.catchUp(GRACE)
    expect(await ledger.find('ord-9')).toEqual([
      expect.objectContaining({
        orderKey: 'M-9',
        orderId: 'ord-9',
        merchantOrderId: 'M-9',
        status: 'Completed',
        final: 'true',
        lastSeen: T0 + 5,
        nextCheck: null,
      }),
    ])
    expect(await ledger.find('M-9')).toHaveLength(1)
  })

  it('holds what folding each event in turn gives, whatever the events and however they are batched', async () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const { store, ledger } = await open()
      const { events, catchUpAfter } = randomEvents(seed)
      for (const [i, event] of events.entries()) {
        await store.append(event)
        if (catchUpAfter.has(i)) await ledger.catchUp(GRACE)
      }
      await ledger.catchUp(GRACE)
      const expected = foldInTurn(events, GRACE)
      for (const ids of ORDERS) {
        const found = new Map<string, OrderRecord>()
        for (const id of ids)
          for (const r of await ledger.find(id)) found.set(`${r.product}/${r.orderKey}`, r)
        const named = (r: OrderRecord) =>
          [r.orderKey, r.orderId, r.merchantOrderId].some((id) => ids.includes(id!))
        // find() looks an order up by its two ids only: its key must always be one of them.
        for (const r of found.values()) expect([r.orderId, r.merchantOrderId]).toContain(r.orderKey)
        expect({ seed, records: sortByKey([...found.values()]) }).toEqual({
          seed,
          records: sortByKey(expected.filter(named)),
        })
      }
    }
  })

  it('lends the round to one holder at a time, until its lease runs out', async () => {
    const { ledger, other } = await open()
    const second = await other()
    onTestFinished(() => second.close())
    expect(await ledger.tryLease('a', T0, 1_000)).toBe(true)
    expect(await second.tryLease('b', T0 + 500, 1_000)).toBe(false)
    expect(await ledger.tryLease('a', T0 + 900, 1_000)).toBe(true)
    expect(await second.tryLease('b', T0 + 1_500, 1_000)).toBe(false)
    expect(await second.tryLease('b', T0 + 1_901, 1_000)).toBe(true)
  })
})

describe('the order ledger over events stored before deadlines were read', () => {
  it('SQLite: an older event is due a grace after it was accepted, a newer one a grace after its deadline', async () => {
    const dir = tempDir()
    const old = new Database(join(dir, STORE_FILE))
    for (const migration of MIGRATIONS.slice(0, -1)) old.exec(migration)
    old.exec(`PRAGMA user_version = ${MIGRATIONS.length - 1}`)
    old
      .prepare(
        `INSERT INTO events (id, service, accepted_at, signature, order_id, body, retry_since, product, final, status)
         VALUES ('evt_old', 'cpg', ?, '', 'ord-old', ?, 0, 'cpg-pay-in', 'false', 'Pending')`,
      )
      .run(
        T0,
        Buffer.from(
          '{"data":{"orderId":"ord-old","status":"Pending","expiresAt":"2027-01-15T08:00:00.000Z"}}',
        ),
      )
    old.close()
    const store = new GroupCommitStore(dir)
    const ledger = new SqliteOrderLedger(dir)
    onTestFinished(async () => {
      await ledger.close()
      await store.close()
    })
    await store.append(cpg('Pending', 'false'))
    expect(await ledger.catchUp(GRACE)).toBe(2)
    expect((await ledger.find('ord-old'))[0]).toMatchObject({ deadline: T0, nextCheck: T0 + GRACE })
    const deadline = Date.parse('2027-01-15T08:00:00.000Z')
    expect((await ledger.find('ord-1'))[0]).toMatchObject({ deadline, nextCheck: deadline + GRACE })
  })
})

// Four orders, each with Tylt's id and the merchant's; an event names either or both.
const ORDERS = [0, 1, 2, 3].map((i) => [`t-${i}`, `m-${i}`])
const STATES: readonly [string | null, RelayEvent['final']][] = [
  ['Pending', 'false'],
  ['Processing', 'unknown'],
  ['Completed', 'true'],
  ['Failed', 'true'],
  [null, 'false'],
]

/** A seeded generator (mulberry32), so that a failing sequence can be replayed from its seed. */
function generator(seed: number): (n: number) => number {
  let a = seed
  return (n) => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n)
  }
}

/**
 * 240 events of the four orders in a random order, and after which of them a catch-up runs. With an even
 * seed every event names both ids, so no order goes by two keys: the ledger folds whole batches, in which
 * each order comes up many times.
 */
function randomEvents(seed: number): { events: RelayEvent[]; catchUpAfter: Set<number> } {
  const pick = generator(seed)
  const bothIds = seed % 2 === 0
  const events: RelayEvent[] = []
  const catchUpAfter = new Set<number>()
  for (let i = 0; i < 240; i++) {
    const order = pick(ORDERS.length)
    const [orderId, merchantOrderId] = ORDERS[order]!
    const names = bothIds ? 2 : pick(3)
    const [status, final] = STATES[pick(STATES.length)]!
    events.push(
      relayEvent({
        id: `evt_random_${seed}_${i}`,
        acceptedAt: T0 + pick(1_000),
        product: pick(20) === 0 ? 'unknown' : order % 2 === 0 ? 'cpg-pay-in' : 'inr-payout',
        orderId: names === 1 ? null : orderId!,
        merchantOrderId: names === 0 ? null : merchantOrderId!,
        status,
        final,
        recovered: pick(10) === 0 ? 'reconcile' : null,
        deadline: pick(2) === 0 ? null : T0 + pick(100_000),
      }),
    )
    if (pick(40) === 0) catchUpAfter.add(i)
  }
  return { events, catchUpAfter }
}

const sortByKey = (records: OrderRecord[]) =>
  [...records].sort((a, b) => `${a.product}/${a.orderKey}`.localeCompare(`${b.product}/${b.orderKey}`))
