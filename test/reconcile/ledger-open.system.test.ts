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

const ADAPTERS: readonly { name: string; open(): Promise<{ store: EventStore; ledger: OrderLedger }> }[] = [
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
      return { store, ledger }
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
      return { store, ledger }
    },
  },
]

const T0 = 1_800_000_000_000
const order = (id: string, at: number, status: string, final: RelayEvent['final']) =>
  relayEvent({
    id: `evt_open_${id}_${status}`,
    service: 'cpg',
    acceptedAt: at,
    product: 'cpg-pay-in',
    orderId: id,
    merchantOrderId: `M-${id}`,
    status,
    final,
    body: Buffer.from(`{"data":{"orderId":"${id}","status":"${status}"}}`),
  })

describe.each(ADAPTERS)('the order ledger on $name, open orders', ({ open }) => {
  it('lists unresolved orders oldest first, leaving out final and abandoned ones, up to the limit', async () => {
    const { store, ledger } = await open()
    await store.append(order('newer', T0 + 2_000, 'Pending', 'false'))
    await store.append(order('older', T0 + 1_000, 'Pending', 'false'))
    await store.append(order('paid', T0, 'Completed', 'true'))
    await store.append(order('late', T0 - 1_000, 'Pending', 'false'))
    await ledger.catchUp(0)
    const [late] = await ledger.find('late')
    await ledger.recordCheck(late!, { nextCheck: null, checks: 0, lastResult: 'abandoned', abandonedAt: T0 })

    expect((await ledger.open(10)).map((o) => o.orderKey)).toEqual(['older', 'newer'])
    expect((await ledger.open(1)).map((o) => o.orderKey)).toEqual(['older'])
    expect((await ledger.abandoned(10)).map((o) => o.orderKey)).toEqual(['late'])
  })
})
