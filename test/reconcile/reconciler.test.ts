import { describe, expect, it } from 'vitest'
import { reconcileEventId } from '../../src/reconcile/reconcile-event.js'
import { sleep } from '../helpers/index.js'
import { reconcileEnv, reconcileRig, standIn } from './reconcile-helpers.js'

const CPG_QUERY = '/transactions/merchant/getPayinTransactionInformation'

describe('reconcile against the stand-in', () => {
  it("emits one event with Tylt's answer when a CPG pay-in moved without a callback, then nothing", async () => {
    const stand = await standIn()
    const rig = await reconcileRig(reconcileEnv(stand))
    const key = stand.addOrder('cpg', 'cpg-pay-in', 'Pending')
    await rig.deliver(stand, key)
    stand.move(key, 'Completed')

    const first = await rig.reconciler().run()
    expect(first.results.map((r) => [r.orderKey, r.previous, r.current, r.action])).toEqual([
      [key, 'Pending', 'Completed', 'emitted'],
    ])
    const stored = rig.test.stored()
    expect(stored).toHaveLength(2)
    const recovered = stored[1]!
    expect(recovered.recovered).toBe('reconcile')
    expect(recovered.signature).toBe('')
    expect(recovered.body.equals(stand.answer(key))).toBe(true)
    expect(recovered).toMatchObject({
      status: 'Completed',
      final: 'true',
      product: 'cpg-pay-in',
      orderId: key,
    })

    // Final now: no longer due, so a run asks nothing; named, it is asked and found unchanged.
    const before = stand.requests.length
    expect((await rig.reconciler().run()).results).toEqual([])
    expect(stand.requests.length).toBe(before)
    const named = await rig.reconciler().run({ orders: [{ id: key }] })
    expect(named.results.map((r) => r.action)).toEqual(['unchanged'])
    expect(rig.test.stored()).toHaveLength(2)
  })

  it('names the event after (service, product, order, status) only', async () => {
    const stand = await standIn()
    const rig = await reconcileRig(reconcileEnv(stand))
    const key = stand.addOrder('cpg', 'cpg-pay-in', 'Pending')
    await rig.deliver(stand, key)
    stand.move(key, 'Expired')
    const [result] = (await rig.reconciler().run()).results
    const [order] = await rig.ledger.find(key)
    expect(result?.eventId).toBe(reconcileEventId({ ...order!, status: 'Pending' }, 'Expired'))
    expect(result?.eventId).toMatch(/^rec_[0-9a-f]{32}$/)
  })

  it('asks nothing about an order whose final callback arrived', async () => {
    const stand = await standIn()
    const rig = await reconcileRig(reconcileEnv(stand))
    const key = stand.addOrder('cpg', 'cpg-pay-in', 'Pending')
    await rig.deliver(stand, key)
    stand.move(key, 'Completed')
    await rig.deliver(stand, key)
    const report = await rig.reconciler().run()
    expect(report.results).toEqual([])
    expect(stand.requestsFor({ query: key })).toEqual([])
  })

  it('asks nothing about a due order whose final callback arrives while the round waits to ask', async () => {
    const stand = await standIn()
    const rig = await reconcileRig(reconcileEnv(stand, { RECONCILE_RATE: '4' }))
    const keys = ['ord-a', 'ord-b'].map((orderId) =>
      stand.addOrder('cpg', 'cpg-pay-in', 'Pending', { orderId, merchantOrderId: `M-${orderId}` }),
    )
    for (const key of keys) await rig.deliver(stand, key)
    let settled: string | undefined
    // The round's first wait is for the second order's slot: its final callback arrives then.
    const settleFirst = async (ms: number) => {
      if (settled === undefined) {
        settled = keys.find((key) => stand.requestsFor({ query: key }).length === 0)!
        stand.move(settled, 'Completed')
        await rig.deliver(stand, settled)
      }
      await sleep(ms)
    }
    const report = await rig.reconciler({ sleep: settleFirst }).run()
    expect(settled).toBeDefined()
    const asked = keys.find((key) => key !== settled)!
    expect(report.results.map((r) => [r.orderKey, r.action])).toEqual([[asked, 'unchanged']])
    expect(stand.requestsFor({ query: settled! })).toEqual([])
    // The callback's event and the two first ones: nothing emitted by reconcile.
    expect(rig.test.stored().filter((e) => e.recovered === 'reconcile')).toEqual([])
  })

  it('emits for UPI 2 -> 4, PIX 2 -> 4 and an EU pay-in 4 -> 5, never calling the approve endpoint', async () => {
    const stand = await standIn()
    const rig = await reconcileRig(reconcileEnv(stand))
    const upi = stand.addOrder('prime-upi', 'upi', 2)
    const pix = stand.addOrder('prime-upi', 'pix', 2)
    const eu = stand.addOrder('prime-upi', 'eu', 4)
    for (const key of [upi, pix, eu]) await rig.deliver(stand, key, 'prime-upi')
    stand.move(upi, 4)
    stand.move(pix, 4)
    stand.move(eu, 5)
    const report = await rig.reconciler().run()
    const byKey = new Map(report.results.map((r) => [r.orderKey, r]))
    expect(byKey.get(upi)).toMatchObject({ previous: '2', current: '4', action: 'emitted' })
    expect(byKey.get(pix)).toMatchObject({ previous: '2', current: '4', action: 'emitted' })
    expect(byKey.get(eu)).toMatchObject({ previous: '4', current: '5', action: 'emitted' })
    const recovered = rig.test.stored().filter((e) => e.recovered === 'reconcile')
    expect(recovered.map((e) => [e.product, e.status, e.final])).toEqual(
      expect.arrayContaining([
        ['upi', '4', 'true'],
        ['pix', '4', 'true'],
        ['eu-open-banking', '5', 'true'],
      ]),
    )
    expect(stand.requests.filter((r) => r.path.includes('approve'))).toEqual([])
    expect(stand.requests.every((r) => r.method === 'GET' && r.signatureValid)).toBe(true)
  })

  it('with --dry-run asks Tylt but stores nothing', async () => {
    const stand = await standIn()
    const rig = await reconcileRig(reconcileEnv(stand))
    const key = stand.addOrder('cpg', 'cpg-pay-in', 'Pending')
    await rig.deliver(stand, key)
    stand.move(key, 'Completed')
    const report = await rig.reconciler().run({ dryRun: true })
    expect(report.results.map((r) => r.action)).toEqual(['dry-run'])
    expect(stand.requestsFor({ path: CPG_QUERY })).toHaveLength(1)
    expect(rig.test.stored()).toHaveLength(1)
  })
})
