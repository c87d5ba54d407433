import { describe, expect, it } from 'vitest'
import { eventId } from '../../src/event/event-id.js'
import { extractMetadata } from '../../src/event/extract-metadata.js'
import { fixture } from '../fixtures.js'

describe('extractMetadata', () => {
  it.each([
    [
      'cpg-pay-in.json',
      { orderId: '9b1e4c2a-5d7f-4e8a-b3c6-1f2e3d4c5b6a', merchantOrderId: 'ORD-10042', status: 'Completed' },
    ],
    [
      'cpg-payout.json',
      { orderId: 'c7d8e9f0-1a2b-4c3d-9e8f-7a6b5c4d3e2f', merchantOrderId: 'PAYOUT-77', status: 'Pending' },
    ],
    ['upi-trade.json', { orderId: 'inst_5521', merchantOrderId: 'UPI-3345', status: '4' }],
    ['eu-open-banking.json', { orderId: 'ob_88f1', merchantOrderId: 'EU-2020', status: '5' }],
    ['india-payout.json', { orderId: 'inr-payout-991', merchantOrderId: 'INRP-5', status: 'completed' }],
    ['not-json.txt', { orderId: null, merchantOrderId: null, status: null }],
  ])('reads %s', (name, expected) => {
    expect(extractMetadata(fixture(name))).toEqual(expected)
  })

  it('tolerates shapes it does not know, and never throws', () => {
    for (const text of [
      '',
      '[]',
      'null',
      '{"data":null}',
      '{"data":{"status":{"nested":true}}}',
      '{bad json',
      '"x"',
    ]) {
      expect(extractMetadata(Buffer.from(text))).toEqual({
        orderId: null,
        merchantOrderId: null,
        status: null,
      })
    }
  })

  it('keeps only printable ASCII, bounded, since values travel as headers', () => {
    const body = Buffer.from(
      JSON.stringify({ data: { merchantOrderId: `a\r\nb\u00e9${'x'.repeat(300)}`, status: 'Paid' } }),
    )
    expect(extractMetadata(body).merchantOrderId).toBe(`ab${'x'.repeat(126)}`)
  })
})

describe('eventId', () => {
  it('is stable for the same service and bytes, and differs otherwise', () => {
    const body = fixture('cpg-pay-in.json')
    expect(eventId('cpg', body)).toBe(eventId('cpg', Buffer.from(body)))
    expect(eventId('cpg', body)).not.toBe(eventId('upi', body))
    expect(eventId('cpg', body)).not.toBe(eventId('cpg', Buffer.concat([body, Buffer.from(' ')])))
    expect(eventId('cpg', body)).toMatch(/^evt_[0-9a-f]{32}$/)
  })
})
