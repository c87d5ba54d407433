import fc from 'fast-check'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { RelayEvent } from '../../../src/core/event.js'
import type { EventStore } from '../../../src/core/event-store.js'
import { extractMetadata } from '../../../src/event/extract-metadata.js'
import { statusIdsOf } from '../../../src/event/finality-table.js'
import { bodyWith, metadataValue } from '../../event/metadata-values.js'
import { ADAPTERS } from './adapters.js'

const event = (i: number, overrides: Partial<RelayEvent>): RelayEvent => ({
  id: `evt_${i}`,
  service: 'cpg',
  acceptedAt: 1_700_000_000_000 + i,
  signature: 'ab'.repeat(32),
  orderId: null,
  merchantOrderId: null,
  status: null,
  product: 'unknown',
  final: 'unknown',
  recovered: null,
  deadline: null,
  body: Buffer.from(`{"i":${i}}`),
  ...overrides,
})

describe.each(ADAPTERS)('list filters on $name: ids and statuses without regard to case', (adapter) => {
  async function filled(): Promise<EventStore> {
    const store = await adapter.open()
    onTestFinished(() => store.close())
    const events = [
      event(1, { product: 'cpg-pay-in', status: 'Completed', merchantOrderId: 'ORD-10042', orderId: 'c-1' }),
      event(2, { product: 'cpg-pay-in', status: 'Pending', merchantOrderId: 'ord-10043' }),
      event(3, { product: 'upi', status: '4', orderId: 'Inst-77', merchantOrderId: 'UPI-1' }),
      event(4, { product: 'upi', status: '3', merchantOrderId: 'UPI-2' }),
      event(5, { product: 'eu-open-banking', status: '4', merchantOrderId: 'EU-1' }),
      event(6, { product: 'eu-open-banking', status: '5', merchantOrderId: 'EU-2' }),
      event(7, { product: 'inr-payout', status: 'completed', merchantOrderId: '50%_off\\x' }),
      event(8, { product: 'cpg-pay-in', status: 'Ñ-Estado', merchantOrderId: 'ORD-Ñ1' }),
    ]
    for (const e of events) await store.append(e)
    return store
  }
  const ids = (events: readonly { id: string }[]) => events.map((e) => e.id.slice(4)).map(Number)
  const byStatus = async (store: EventStore, status: string) =>
    ids(await store.list({ limit: 100, status, statusIds: statusIdsOf(status) }))

  it('a status in any case, and a label for the numeric ids it names in their own product', async () => {
    const store = await filled()
    // UPI 4 is completed; EU Open Banking 4 is not (5 is): a label matches within its product only.
    expect(await byStatus(store, 'completed')).toEqual([7, 6, 3, 1])
    expect(await byStatus(store, 'COMPLETED')).toEqual([7, 6, 3, 1])
    expect(await byStatus(store, 'pending')).toEqual([2])
    expect(await byStatus(store, '4')).toEqual([5, 3])
    expect(await byStatus(store, 'Ñ-Estado')).toEqual([8])
    expect(ids(await store.list({ limit: 100, status: 'completed' }))).toEqual([7, 1])
  })

  it('an order id by the start of either id, in any case; %, _ and \\ are literal', async () => {
    const store = await filled()
    const order = async (text: string) => ids(await store.list({ limit: 100, order: text }))
    expect(await order('ord-1004')).toEqual([2, 1])
    expect(await order('ORD-10042')).toEqual([1])
    expect(await order('inst')).toEqual([3])
    expect(await order('c-1')).toEqual([1])
    expect(await order('50%_off\\')).toEqual([7])
    expect(await order('50%')).toEqual([7])
    expect(await order('5_%')).toEqual([])
    expect(await order('%')).toEqual([])
    expect(await order('ORD-Ñ1')).toEqual([8])
    expect(await order('nothing')).toEqual([])
  })

  it('finds every order id the metadata keeps by the id itself, whatever its characters', async () => {
    const store = await adapter.open()
    onTestFinished(() => store.close())
    let n = 100
    await fc.assert(
      fc.asyncProperty(metadataValue, async (value) => {
        const body = Buffer.from(bodyWith('o', value, 'Paid', n))
        const kept = event(n++, { ...extractMetadata(body), body })
        fc.pre(kept.merchantOrderId !== null)
        await store.append(kept)
        const found = await store.list({ limit: 1_000, order: kept.merchantOrderId! })
        expect(found.map((e) => e.id)).toContain(kept.id)
        expect(found.find((e) => e.id === kept.id)!.merchantOrderId).toBe(String(value))
      }),
      { numRuns: 150 },
    )
  })
})
