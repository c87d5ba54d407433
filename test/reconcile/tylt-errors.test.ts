import { describe, expect, it } from 'vitest'
import { notChecked } from '../../src/reconcile/order-result.js'
import { API_KEYS, reconcileEnv, reconcileRig, STAND_IN_SERVICES, standIn } from './reconcile-helpers.js'

const CPG_QUERY = '/transactions/merchant/getPayinTransactionInformation'

async function pendingOrders(count: number, service = 'cpg', stand?: Awaited<ReturnType<typeof standIn>>) {
  const s = stand ?? (await standIn())
  const rig = await reconcileRig(reconcileEnv(s))
  const keys: string[] = []
  for (let i = 0; i < count; i++) {
    const key = s.addOrder(service, 'cpg-pay-in', 'Pending', {
      orderId: `0000000${i}-aaaa-4bbb-8ccc-${service === 'cpg' ? 'c' : 'u'}00000000000`,
      merchantOrderId: `M-${service}-${i}`,
    })
    await rig.deliver(s, key, service)
    keys.push(key)
  }
  return { stand: s, rig, keys }
}

describe('reconcile and the answers Tylt may give', () => {
  it('signs in the other GET form once the first is refused, and keeps it', async () => {
    const stand = await standIn(STAND_IN_SERVICES.map((s) => ({ ...s, signing: 'query' as const })))
    const { rig, keys } = await pendingOrders(2, 'cpg', stand)
    for (const key of keys) stand.move(key, 'Completed')
    const report = await rig.reconciler().run()
    expect(report.results.map((r) => r.action)).toEqual(['emitted', 'emitted'])
    // json refused, query taken; the second order goes straight to the query form.
    expect(stand.requests.map((r) => [r.status, r.signatureValid])).toEqual([
      [401, false],
      [200, true],
      [200, true],
    ])
  })

  it('waits out a 429 Retry-After for that service only; the others go on', async () => {
    const stand = await standIn()
    const rig = await reconcileRig(reconcileEnv(stand))
    const cpg = stand.addOrder('cpg', 'cpg-pay-in', 'Pending')
    const upi = stand.addOrder('prime-upi', 'upi', 2)
    const upi2 = stand.addOrder('prime-upi', 'pix', 2)
    await rig.deliver(stand, cpg)
    await rig.deliver(stand, upi, 'prime-upi')
    await rig.deliver(stand, upi2, 'prime-upi')
    stand.fail({ service: 'cpg', status: 429, headers: { 'retry-after': '3' }, times: 1 })
    stand.move(cpg, 'Completed')
    const report = await rig.reconciler().run()
    expect(report.results.find((r) => r.orderKey === cpg)?.action).toBe('emitted')
    const cpgRequests = stand.requestsFor({ service: 'cpg' })
    expect(cpgRequests.map((r) => r.status)).toEqual([429, 200])
    expect(cpgRequests[1]!.at - cpgRequests[0]!.at).toBeGreaterThanOrEqual(3_000)
    // The other service was asked while cpg waited.
    const others = stand.requestsFor({ service: 'prime-upi' })
    expect(others.length).toBe(2)
    expect(others.every((r) => r.at < cpgRequests[1]!.at)).toBe(true)
  })

  it('leaves a service to a later run when Tylt asks for a pause longer than a run waits', async () => {
    const { stand, rig } = await pendingOrders(3)
    stand.fail({ service: 'cpg', status: 429, headers: { 'retry-after': '3600' }, times: 1 })
    const started = Date.now()
    const report = await rig.reconciler().run()
    expect(report.results.map((r) => r.action)).toEqual(['error', 'skipped', 'skipped'])
    expect(report.results[1]?.detail).toMatch(/^not checked: Tylt asked for no requests until \d{4}-/)
    expect(stand.requests).toHaveLength(1)
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('after five 5xx answers opens the circuit, and names every order it could not check', async () => {
    const { stand, rig, keys } = await pendingOrders(6)
    stand.fail({ service: 'cpg', status: 500, times: 5 })
    const report = await rig.reconciler().run()
    const missed = notChecked(report)
    expect(missed.map((r) => r.orderKey).sort()).toEqual([...keys].sort())
    expect(missed.filter((r) => r.action === 'error')).toHaveLength(5)
    expect(missed.filter((r) => r.action === 'skipped')).toHaveLength(1)
    expect(stand.requestsFor({ path: CPG_QUERY })).toHaveLength(5)
    expect(rig.test.stored().filter((e) => e.recovered === 'reconcile')).toEqual([])
    // The five that failed back off; the one never asked stays due for the next run.
    const skipped = missed.find((r) => r.action === 'skipped')!
    expect((await rig.ledger.due(Date.now(), 100)).map((o) => o.orderKey)).toEqual([skipped.orderKey])
  })

  it('stops a service whose API key Tylt refuses, and never puts the key in a result', async () => {
    const stand = await standIn([
      { ...STAND_IN_SERVICES[0]!, apiKey: 'the-key-tylt-knows' },
      STAND_IN_SERVICES[1]!,
    ])
    const { rig } = await pendingOrders(3, 'cpg', stand)
    const report = await rig.reconciler().run()
    expect(report.stopped.map((s) => s.service)).toEqual(['cpg'])
    expect(report.results.map((r) => r.action)).toEqual(['auth', 'skipped', 'skipped'])
    // One order asked, in both forms; the others not at all.
    expect(stand.requests).toHaveLength(2)
    expect(JSON.stringify(report)).not.toContain(API_KEYS.cpg)
  })

  it('backs off an order Tylt does not know', async () => {
    const { stand, rig, keys } = await pendingOrders(1)
    stand.fail({ service: 'cpg', status: 404, body: '{"msg":"Order not found","data":null}', times: 1 })
    const report = await rig.reconciler().run()
    expect(report.results.map((r) => r.action)).toEqual(['not-found'])
    const [order] = await rig.ledger.find(keys[0]!)
    expect(order?.checks).toBe(1)
    expect(order?.nextCheck).toBeGreaterThan(Date.now() + 10 * 60_000)
  })

  it('gives up on a request that hangs, within RECONCILE_TIMEOUT', async () => {
    const { stand, rig } = await pendingOrders(1)
    stand.fail({ service: 'cpg', hang: true, times: 1 })
    const started = Date.now()
    const report = await rig.reconciler().run()
    expect(report.results.map((r) => [r.action, r.detail])).toEqual([['error', 'timeout']])
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('abandons an order unresolved past RECONCILE_MAX_AGE, and asks Tylt nothing about it', async () => {
    const stand = await standIn()
    const rig = await reconcileRig(reconcileEnv(stand, { RECONCILE_MAX_AGE: '1h' }))
    const key = stand.addOrder('cpg', 'cpg-pay-in', 'Pending')
    await rig.deliver(stand, key)
    const later = Date.now() + 2 * 3_600_000
    const report = await rig.reconciler({ now: () => later }).run()
    expect(report.results.map((r) => [r.orderKey, r.action])).toEqual([[key, 'abandoned']])
    expect(stand.requests).toEqual([])
    const [order] = await rig.ledger.find(key)
    expect(order?.abandonedAt).toBe(later)
    expect(await rig.ledger.abandoned(10)).toHaveLength(1)
    expect((await rig.reconciler({ now: () => later + 1 }).run()).results).toEqual([])
  })
})
