import { describe, expect, it } from 'vitest'
import { reconcileEventId } from '../../src/reconcile/reconcile-event.js'
import { reconcileEnv, reconcileRig, standIn } from './reconcile-helpers.js'

const CPG_QUERY = '/transactions/merchant/getPayinTransactionInformation'
const UPI_QUERY = '/p2pRampsMerchant/getInstanceDetails'

/** A stand-in with a UPI order and a CPG pay-in whose every callback was lost, and a relay that saw none. */
async function lostOrders() {
  const stand = await standIn()
  const rig = await reconcileRig(reconcileEnv(stand))
  const upi = stand.addOrder('prime-upi', 'upi', 4, { orderId: 'inst_lost_1', merchantOrderId: 'UPI-LOST-1' })
  const cpg = stand.addOrder('cpg', 'cpg-pay-in', 'Completed', {
    orderId: '5c0a9e1e-7711-11ef-8277-02d8461243e9',
    merchantOrderId: 'ORD-LOST-1',
  })
  const named = [
    { id: 'UPI-LOST-1', kind: 'merchantOrderId', service: 'prime-upi', product: 'upi' },
    { id: cpg, service: 'cpg', product: 'cpg-pay-in' },
  ] as const
  return { stand, rig, upi, cpg, named }
}

describe('reconcile of orders the relay never saw', () => {
  it("emits one event per order from Tylt's answer, by the id each product's query takes", async () => {
    const { stand, rig, upi, cpg, named } = await lostOrders()
    expect(rig.test.stored()).toEqual([])

    const first = await rig.reconciler().run({ orders: named })
    expect(
      first.results.map((r) => [r.service, r.product, r.orderKey, r.previous, r.current, r.action]),
    ).toEqual(
      expect.arrayContaining([
        ['prime-upi', 'upi', upi, null, '4', 'emitted'],
        ['cpg', 'cpg-pay-in', cpg, null, 'Completed', 'emitted'],
      ]),
    )
    expect(first.results).toHaveLength(2)
    // UPI is asked by the merchant's id, CPG by Tylt's.
    expect(stand.requestsFor({ path: UPI_QUERY }).map((r) => r.query)).toEqual(['merchantOrderId=UPI-LOST-1'])
    expect(stand.requestsFor({ path: CPG_QUERY }).map((r) => r.query)).toEqual([`orderId=${cpg}`])

    const stored = rig.test.stored()
    expect(stored).toHaveLength(2)
    for (const [key, product, status] of [
      [upi, 'upi', '4'],
      [cpg, 'cpg-pay-in', 'Completed'],
    ] as const) {
      const event = stored.find((e) => e.orderId === key)
      expect(event, key).toMatchObject({
        recovered: 'reconcile',
        signature: '',
        product,
        status,
        final: 'true',
      })
      expect(event!.body.equals(stand.answer(key))).toBe(true)
      // The ledger learnt the order from the committed event, under the key its event id was made from.
      const [record] = await rig.ledger.find(key)
      expect(record).toMatchObject({ product, status, source: 'reconcile', nextCheck: null })
      expect(event!.id).toBe(reconcileEventId(record!, status))
    }
    expect((await rig.ledger.find('UPI-LOST-1'))[0]?.orderKey).toBe(upi)

    const second = await rig.reconciler().run({ orders: named })
    expect(second.results.map((r) => [r.orderKey, r.previous, r.current, r.action]).sort()).toEqual(
      [
        [upi, '4', '4', 'unchanged'],
        [cpg, 'Completed', 'Completed', 'unchanged'],
      ].sort(),
    )
    expect(rig.test.stored()).toHaveLength(2)

    // A genuine callback for the same state, arriving late, is still accepted.
    await rig.deliver(stand, cpg)
    expect(rig.test.stored()).toHaveLength(3)
    expect(rig.test.stored()[2]!.signature).not.toBe('')
  })

  it("takes the ids a bare id leaves open from Tylt's answer", async () => {
    const { rig, upi } = await lostOrders()
    const report = await rig.reconciler().run({ orders: [{ id: upi, service: 'prime-upi', product: 'upi' }] })
    expect(report.results.map((r) => [r.orderKey, r.current, r.action])).toEqual([[upi, '4', 'emitted']])
    expect(rig.test.stored().map((e) => [e.orderId, e.merchantOrderId])).toEqual([[upi, 'UPI-LOST-1']])
    expect((await rig.ledger.find('UPI-LOST-1')).map((r) => r.orderKey)).toEqual([upi])
  })

  it('stores and records nothing for an order Tylt does not know', async () => {
    const stand = await standIn()
    const rig = await reconcileRig(reconcileEnv(stand))
    const report = await rig.reconciler().run({
      orders: [{ id: 'ORD-NOWHERE', service: 'prime-upi', product: 'upi', kind: 'merchantOrderId' }],
    })
    expect(report.results).toMatchObject([
      { orderKey: 'ORD-NOWHERE', previous: null, current: null, action: 'not-found', httpStatus: 404 },
    ])
    expect(stand.requestsFor({ query: 'ORD-NOWHERE' })).toHaveLength(1)
    expect(rig.test.stored()).toEqual([])
    expect(await rig.ledger.find('ORD-NOWHERE')).toEqual([])
  })

  it('with --dry-run asks Tylt but stores and records nothing', async () => {
    const { stand, rig, upi, cpg, named } = await lostOrders()
    const report = await rig.reconciler().run({ orders: named, dryRun: true })
    expect(report.results.map((r) => r.action)).toEqual(['dry-run', 'dry-run'])
    expect(stand.requests).toHaveLength(2)
    expect(rig.test.stored()).toEqual([])
    await rig.ledger.catchUp(0)
    expect([...(await rig.ledger.find(upi)), ...(await rig.ledger.find(cpg))]).toEqual([])
  })

  it('skips an unseen order named without its service and product, saying what to add; asks nothing', async () => {
    const { stand, rig, cpg } = await lostOrders()
    const report = await rig.reconciler().run({
      orders: [
        { id: cpg, service: 'cpg' },
        { id: 'UPI-LOST-1', product: 'upi' },
      ],
    })
    expect(report.results.map((r) => [r.orderKey, r.action])).toEqual([
      [cpg, 'skipped'],
      ['UPI-LOST-1', 'skipped'],
    ])
    for (const r of report.results) expect(r.detail).toContain('add --service and --product')
    expect(stand.requests).toEqual([])
    expect(rig.test.stored()).toEqual([])
  })

  it('asks nothing for a product without a query, nor by an id its query does not take', async () => {
    const { stand, rig } = await lostOrders()
    const report = await rig.reconciler().run({
      orders: [
        { id: 'INR-1', service: 'cpg', product: 'inr-payout' },
        { id: 'ORD-LOST-1', service: 'cpg', product: 'cpg-pay-in', kind: 'merchantOrderId' },
      ],
    })
    const byKey = new Map(report.results.map((r) => [r.orderKey, r]))
    expect(byKey.get('INR-1')).toMatchObject({ action: 'unsupported', httpStatus: null })
    expect(byKey.get('ORD-LOST-1')).toMatchObject({
      action: 'skipped',
      detail: 'cpg-pay-in is asked by orderId, not by merchantOrderId',
    })
    expect(stand.requests).toEqual([])
    expect(await rig.ledger.find('INR-1')).toEqual([])
  })
})
