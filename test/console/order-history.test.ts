import { describe, expect, it, onTestFinished } from 'vitest'
import { orderHistory } from '../../src/console/order-history.js'
import type { RelayEvent } from '../../src/core/event.js'
import { GroupCommitStore } from '../../src/store/group-commit-store.js'
import { SqliteOrderLedger } from '../../src/store/sqlite-order-ledger.js'
import { relayEvent, tempDir } from '../helpers/index.js'

const T0 = 1_800_000_000_000
let n = 0
const upi = (fields: Partial<RelayEvent>, data: Record<string, unknown> = {}) =>
  relayEvent({
    id: `evt_history_${n++}`,
    service: 'prime-upi',
    product: 'upi',
    orderId: 'inst-1',
    merchantOrderId: 'M-1',
    final: 'false',
    body: Buffer.from(JSON.stringify({ data: { instanceId: fields.orderId ?? 'inst-1', ...data } })),
    ...fields,
  })

describe("an order's history", () => {
  it("lists the order's own states oldest first, each with its source: callback, reconcile or manual", async () => {
    const dir = tempDir()
    const store = new GroupCommitStore(dir)
    const ledger = new SqliteOrderLedger(dir)
    onTestFinished(async () => {
      await ledger.close()
      await store.close()
    })
    await store.append(upi({ status: '2', acceptedAt: T0 }))
    // Ids that start the same, another service, another product: other orders.
    await store.append(upi({ orderId: 'inst-10', merchantOrderId: 'M-10', status: '2', acceptedAt: T0 + 1 }))
    await store.append(upi({ service: 'cpg', status: '2', acceptedAt: T0 + 2 }))
    await store.append(upi({ product: 'pix', status: '2', acceptedAt: T0 + 3 }))
    await store.append(upi({ status: '3', recovered: 'reconcile', signature: '', acceptedAt: T0 + 4 }))
    // A callback that names only the merchant's id is still this order's.
    await store.append(
      upi({ orderId: null, status: '4', final: 'true', acceptedAt: T0 + 5 }, { manualSettlement: 1 }),
    )
    await ledger.catchUp(0)
    const [order] = await ledger.find('inst-1', 'prime-upi')
    expect(order).toBeDefined()

    const history = await orderHistory(store, order!)
    expect(history.map((s) => [s.status, s.source, s.at - T0, s.final])).toEqual([
      ['2', 'callback', 0, 'false'],
      ['3', 'reconcile', 4, 'false'],
      ['4', 'manual', 5, 'true'],
    ])
  })
})
