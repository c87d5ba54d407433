import { describe, expect, it, onTestFinished } from 'vitest'
import type { RelayEvent } from '../../src/core/event.js'
import type { EventStore } from '../../src/core/event-store.js'
import type { OrderLedger } from '../../src/core/order-ledger.js'
import { GroupCommitStore } from '../../src/store/group-commit-store.js'
import { openPostgresStore } from '../../src/store/postgres/open-postgres.js'
import { PostgresOrderLedger } from '../../src/store/postgres/postgres-order-ledger.js'
import { SqliteOrderLedger } from '../../src/store/sqlite-order-ledger.js'
import { relayEvent, tempDir } from '../helpers/index.js'
import { testSchema } from '../postgres/postgres-helper.js'

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
