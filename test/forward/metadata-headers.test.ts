import { describe, expect, it } from 'vitest'
import type { RelayEvent } from '../../src/core/event.js'
import { contentTypeOf } from '../../src/forward/content-type.js'
import { metadataHeaders } from '../../src/forward/metadata-headers.js'

const event: RelayEvent = {
  id: 'evt_1',
  service: 'prime-upi',
  acceptedAt: 1_700_000_000_999,
  signature: 'ab'.repeat(32),
  orderId: 'ord-1',
  merchantOrderId: 'm-1',
  status: 'paid',
  product: 'upi',
  final: 'false',
  recovered: null,
  deadline: null,
  body: Buffer.from('{}'),
}

describe('metadataHeaders', () => {
  it('gives every documented field, times in whole seconds', () => {
    expect(metadataHeaders(event)).toEqual({
      'webhook-id': 'evt_1',
      'webhook-timestamp': '1700000000',
      'tylt-accepted-at': '1700000000',
      'tylt-service': 'prime-upi',
      'tylt-signature': 'ab'.repeat(32),
      'tylt-order-id': 'ord-1',
      'tylt-merchant-order-id': 'm-1',
      'tylt-status': 'paid',
      'tylt-product': 'upi',
      'tylt-final': 'false',
    })
  })

  it('says an event was recovered from quarantine, and nothing when it was not', () => {
    expect(metadataHeaders({ ...event, recovered: 'quarantine' })['tylt-recovered']).toBe('quarantine')
    expect(metadataHeaders(event)).not.toHaveProperty('tylt-recovered')
  })

  it('leaves out what the body did not tell', () => {
    const headers = metadataHeaders({ ...event, orderId: null, merchantOrderId: null, status: null })
    expect(Object.keys(headers).sort()).toEqual([
      'tylt-accepted-at',
      'tylt-final',
      'tylt-product',
      'tylt-service',
      'tylt-signature',
      'webhook-id',
      'webhook-timestamp',
    ])
  })

  it('leaves out body values that cannot travel as a header', () => {
    const headers = metadataHeaders({
      ...event,
      orderId: 'a\r\nx-evil: 1',
      merchantOrderId: 'café',
      status: '',
    })
    expect(headers).not.toHaveProperty('tylt-order-id')
    expect(headers).not.toHaveProperty('tylt-merchant-order-id')
    expect(headers).not.toHaveProperty('tylt-status')
    for (const orderId of ['x'.repeat(257), ' ord-1', 'ord-1 ', '\tord-1'])
      expect(metadataHeaders({ ...event, orderId })).not.toHaveProperty('tylt-order-id')
    expect(metadataHeaders({ ...event, orderId: 'x'.repeat(256) })['tylt-order-id']).toHaveLength(256)
  })
})

describe('contentTypeOf', () => {
  it.each([
    ['{"a":1}', 'application/json'],
    [' \r\n\t[1]', 'application/json'],
    ['a=1', 'application/octet-stream'],
    ['', 'application/octet-stream'],
    ['   ', 'application/octet-stream'],
  ])('%j is %s', (body, type) => {
    expect(contentTypeOf(Buffer.from(body))).toBe(type)
  })
})
