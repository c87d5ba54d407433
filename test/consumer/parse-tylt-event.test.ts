import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { triggerBody } from '../../src/cli/trigger-bodies.js'
import { FAMILIES, statesOf } from '../../src/cli/trigger-catalogue.js'
import { idempotencyKey } from '../../src/consumer/idempotency-key.js'
import { parseTyltEvent } from '../../src/consumer/parse-tylt-event.js'
import { extractMetadata } from '../../src/event/extract-metadata.js'
import { metadataHeaders } from '../../src/forward/metadata-headers.js'
import { fixture } from '../helpers/fixtures.js'
import { relayEvent } from '../helpers/index.js'

const FINAL = { true: true, false: false, unknown: null }

/** The headers the relay forwards with a body. */
const forwarded = (body: Buffer, extra: Partial<Parameters<typeof relayEvent>[0]> = {}) =>
  metadataHeaders(relayEvent({ id: 'evt_1', service: 'shop', body, ...extractMetadata(body), ...extra }))

describe('parseTyltEvent', () => {
  it('gives every family and state its product, status, final and outcome, with or without the metadata', () => {
    for (const family of FAMILIES)
      for (const row of statesOf(family)) {
        const body = triggerBody(
          family,
          { merchantOrderId: 'ORD-9', at: 1_800_000_000_000 },
          row.wire,
          row.state,
        )
        const expected = {
          product: row.product,
          status: row.wire,
          final: FINAL[row.final],
          outcome: row.outcome,
          merchantOrderId: 'ORD-9',
        }
        expect(parseTyltEvent(body), `${row.family} ${row.state}`).toMatchObject(expected)
        expect(parseTyltEvent(body, forwarded(body)), `${row.family} ${row.state}`).toMatchObject({
          ...expected,
          id: 'evt_1',
          service: 'shop',
          recovered: null,
        })
      }
  })

  it('reads the fields each family documents', () => {
    const pix = parseTyltEvent(fixture('pix-payout.json'))
    expect(pix).toMatchObject({
      product: 'pix',
      instanceId: 'pix_3102',
      eventId: 4,
      isBuyTrade: false,
      fiatAmount: '120.00',
      fiatCurrency: 'BRL',
      transactionStatus: 'Completed',
      outcome: 'success',
    })
    expect(parseTyltEvent(fixture('cpg-pay-in.json'))).toMatchObject({
      product: 'cpg-pay-in',
      baseAmountReceived: '120.5', // the docs' spelling, baseAmountRecieved
      transactionHashes: ['a3f1c9e07b2d4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f'],
    })
    expect(parseTyltEvent(fixture('eu-payout.json'))).toMatchObject({
      product: 'eu-open-banking',
      eventId: 11,
      isBuying: false,
      merchantOrderId: 'EUOUT-9002',
      outcome: 'pending',
    })
    expect(parseTyltEvent(fixture('inr-payout-nested.json'))).toMatchObject({
      product: 'inr-payout',
      event: 'processing',
      amount: '1200.00',
    })
    // Settled by hand after expiry: a success, whatever the trade id says.
    expect(parseTyltEvent(fixture('upi-manual-settlement.json'))).toMatchObject({
      status: '9',
      final: true,
      manualSettlement: true,
      outcome: 'success',
    })
  })

  it('says where a recovered event came from', () => {
    const body = fixture('upi-trade.json')
    expect(parseTyltEvent(body, forwarded(body, { recovered: 'quarantine' })).recovered).toBe('quarantine')
    expect(parseTyltEvent(body, { ...forwarded(body), 'tylt-recovered': 'reconcile' }).recovered).toBe(
      'reconcile',
    )
  })

  it('returns unknown for a shape it cannot tell, and never throws', () => {
    expect(parseTyltEvent('not json')).toMatchObject({
      product: 'unknown',
      outcome: 'unknown',
      raw: undefined,
    })
    expect(parseTyltEvent('[1,2]')).toMatchObject({ product: 'unknown', raw: [1, 2] })
    expect(parseTyltEvent('{"data":{"foo":1}}', { 'tylt-service': 'shop' })).toMatchObject({
      product: 'unknown',
      service: 'shop',
    })
    fc.assert(
      fc.property(
        fc.oneof(fc.json(), fc.uint8Array()),
        fc.dictionary(fc.string(), fc.string()),
        (body, headers) => {
          expect([
            'unknown',
            'cpg-pay-in',
            'cpg-payout',
            'upi',
            'pix',
            'eu-open-banking',
            'inr-payout',
          ]).toContain(parseTyltEvent(body, headers).product)
        },
      ),
      { numRuns: 500 },
    )
  })
})

describe('idempotencyKey', () => {
  it('is (service, order, status): the same for a re-send, new for each state, never confused by separators', () => {
    const key = (status: string, order = 'ORD-1') =>
      idempotencyKey({ service: 'shop', merchantOrderId: order, orderId: 'tylt-1', status })
    expect(key('Completed')).toBe('shop:ORD-1:completed')
    expect(key('COMPLETED')).toBe(key('Completed'))
    expect(key('Pending')).not.toBe(key('Completed'))
    expect(key('x', 'a:b')).not.toBe(
      idempotencyKey({ service: 'shop:a', merchantOrderId: 'b', orderId: null, status: 'x' }),
    )
    expect(idempotencyKey({ service: 's', merchantOrderId: null, orderId: 'tylt-1', status: '4' })).toBe(
      's:tylt-1:4',
    )
  })
})
