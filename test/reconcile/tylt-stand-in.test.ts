import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { extractMetadata } from '../../src/event/extract-metadata.js'
import { FIXTURE_METADATA } from '../event/fixture-metadata.js'
import { fixture } from '../helpers/fixtures.js'
import { API_KEYS, STAND_IN_SERVICES, standIn } from './reconcile-helpers.js'

const CPG = '/transactions/merchant/getPayinTransactionInformation'

function get(url: string, apiKey: string, secret: string, signed: string) {
  return fetch(url, {
    headers: {
      'x-tlp-apikey': apiKey,
      'x-tlp-signature': createHmac('sha256', secret).update(signed).digest('hex'),
    },
  })
}

describe('the Tylt stand-in', () => {
  it('starts each order from the metadata fixtures, so its callbacks read as the fixtures do', async () => {
    const stand = await standIn()
    const cases = [
      ['cpg-pay-in', 'cpg-pay-in.json', 'Completed'],
      ['upi', 'upi-trade.json', '4'],
      ['pix', 'pix-pay-in.json', 2],
      ['eu', 'eu-pay-in.json', 4],
    ] as const
    for (const [family, file, state] of cases) {
      const key = stand.addOrder('cpg', family, state)
      // The fixture's own state, so the bytes are the fixture's.
      expect(stand.callbackBody(key).equals(fixture(file)), file).toBe(true)
      const { product } = FIXTURE_METADATA[file]!
      expect(extractMetadata(stand.answer(key)).product, file).toBe(product)
    }
  })

  it('answers a query signed in its form, refuses the other form and unknown keys', async () => {
    const stand = await standIn()
    const key = stand.addOrder('cpg', 'cpg-pay-in', 'Pending')
    const secret = STAND_IN_SERVICES[0]!.secret
    const url = `${stand.url}${CPG}?orderId=${key}`
    const json = await get(url, API_KEYS.cpg, secret, JSON.stringify({ orderId: key }))
    expect(json.status).toBe(200)
    expect(Buffer.from(await json.arrayBuffer()).equals(stand.answer(key))).toBe(true)
    expect((await get(url, API_KEYS.cpg, secret, `orderId=${key}`)).status).toBe(401)
    stand.setSigning('cpg', 'query')
    expect((await get(url, API_KEYS.cpg, secret, `orderId=${key}`)).status).toBe(200)
    expect((await get(url, 'unknown', secret, `orderId=${key}`)).status).toBe(401)
    // Another service's key does not see the order.
    const upiSecret = STAND_IN_SERVICES[1]!.secret
    expect((await get(url, API_KEYS.upi, upiSecret, JSON.stringify({ orderId: key }))).status).toBe(404)
    expect(stand.requests.map((r) => r.status)).toEqual([200, 401, 200, 401, 404])
  })
})
