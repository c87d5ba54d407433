import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { eventId } from '../../src/event/event-id.js'
import { extractMetadata, NO_METADATA } from '../../src/event/extract-metadata.js'
import { at, MAX_VALUE_LENGTH } from '../../src/event/read-path.js'
import { fixture } from '../helpers/fixtures.js'
import { FIXTURE_METADATA } from './fixture-metadata.js'

const read = (body: unknown) => extractMetadata(Buffer.from(JSON.stringify(body)))

describe('extractMetadata', () => {
  it.each(Object.entries(FIXTURE_METADATA))('reads %s as documented', (name, expected) => {
    expect(extractMetadata(fixture(name))).toEqual(expected)
  })

  it('has a documented reading for every fixture file, and a file for every reading', () => {
    const files = readdirSync(new URL('../fixtures/', import.meta.url)).sort()
    expect(files.length).toBeGreaterThan(15)
    expect(files).toEqual(Object.keys(FIXTURE_METADATA).sort())
  })

  it("docs/metadata.md's examples are the fixtures, row for row: the places each names hold the values read", () => {
    const doc = readFileSync(new URL('../../docs/metadata.md', import.meta.url), 'utf8')
    const examples = doc.split('## Examples')[1]!
    const cell = /(?:`([^`]+)`|\(absent\))/.source
    const rowPattern = new RegExp(
      `^\\| [^|]+ \\| \`([^\`]+)\` \\| ${cell} \\| ${cell} \\| ${cell} \\| \`([^\`]+)\` \\| \`([^\`]+)\` \\|$`,
      'gm',
    )
    const rows = [...examples.matchAll(rowPattern)]
    expect(rows.map((m) => m[1]).sort()).toEqual(Object.keys(FIXTURE_METADATA).sort())
    for (const [, name, orderPlace, merchantPlace, status, product, final] of rows) {
      const expected = FIXTURE_METADATA[name!]!
      const bytes = fixture(name!)
      const parsed: unknown = name!.endsWith('.json') ? JSON.parse(bytes.toString()) : undefined
      const valueAt = (place: string | undefined) =>
        place === undefined ? null : String(at(parsed, place.split('.')))
      expect([valueAt(orderPlace), valueAt(merchantPlace)], name).toEqual([
        expected.orderId,
        expected.merchantOrderId,
      ])
      expect([status ?? null, product, final], name).toEqual([
        expected.status,
        expected.product,
        expected.final,
      ])
    }
  })

  it('reads the parsed form the JSON fallback hands over exactly as the bytes', () => {
    for (const name of Object.keys(FIXTURE_METADATA).filter((n) => n.endsWith('.json'))) {
      const bytes = fixture(name)
      expect(extractMetadata(bytes, JSON.parse(bytes.toString()))).toEqual(extractMetadata(bytes))
    }
  })

  it('tolerates shapes it does not know, and never throws', () => {
    for (const text of [
      '',
      '[]',
      'null',
      '{"data":null}',
      '{"data":{"status":{"nested":true}}}',
      '{"data":{"trade":null,"transaction":[]}}',
      '{bad json',
      '"x"',
    ]) {
      const metadata = extractMetadata(Buffer.from(text))
      expect([metadata.orderId, metadata.merchantOrderId, metadata.status]).toEqual([null, null, null])
      expect(metadata.final).not.toBe('true')
    }
    expect(extractMetadata(Buffer.from('{"data":null}'))).toEqual(NO_METADATA)
  })

  it('takes the first place that holds a value: the transaction before data, data before the top level', () => {
    const body = {
      merchantOrderId: 'top',
      data: { merchantOrderId: 'data', transaction: { merchantOrderId: 'tx' }, trade: { event: { id: 1 } } },
    }
    expect(read(body).merchantOrderId).toBe('tx')
    expect(read({ ...body, data: { ...body.data, transaction: {} } }).merchantOrderId).toBe('data')
    expect(read({ merchantOrderId: 'top', data: { eventId: 2 } }).merchantOrderId).toBe('top')
  })

  it('reads every Open Banking event id place, data first', () => {
    expect(read({ data: { eventDetails: { eventId: 5 }, eventId: 8 } }).status).toBe('5')
    expect(read({ data: { eventId: 8 }, eventDetails: { eventId: 5 } }).status).toBe('8')
    expect(read({ eventDetails: { eventId: 9 }, eventId: 1 }).status).toBe('9')
    expect(read({ eventId: 10 })).toMatchObject({ status: '10', product: 'eu-open-banking', final: 'true' })
  })

  it('Philippines PHP: the Open Banking shape and product, but every state unknown (Tylt documents none)', () => {
    for (const eventId of [1, 4, 5, 8, 9]) {
      expect(
        read({ data: { instanceId: 'p', fiatCurrency: 'php', eventDetails: { eventId } } }),
      ).toMatchObject({ product: 'eu-open-banking', status: String(eventId), final: 'unknown' })
    }
    expect(read({ eventDetails: { eventId: 5 }, fiatCurrency: 'PHP' }).final).toBe('unknown')
    // The same states in EUR or GBP keep the EU Open Banking finality.
    expect(read({ eventDetails: { eventId: 5 }, fiatCurrency: 'EUR' }).final).toBe('true')
    expect(read({ data: { eventId: 8, currency: 'GBP' } }).final).toBe('true')
  })

  it('tells UPI from PIX by currency, by an id only UPI uses, and otherwise says unknown', () => {
    const trade = (event: unknown, extra = {}) =>
      read({ data: { trade: { event: { id: event }, ...extra } } })
    expect(trade(2, { fiatCurrency: 'inr' }).product).toBe('upi')
    expect(trade(2, { fiatCurrency: 'BRL' }).product).toBe('pix')
    expect(trade(5)).toMatchObject({ product: 'upi', final: 'unknown' })
    expect(trade(0)).toMatchObject({ product: 'upi', final: 'false' })
    // Where the UPI and PIX pages agree, the finality is known without the product.
    expect(trade(4)).toMatchObject({ product: 'unknown', status: '4', final: 'true' })
    expect(trade(2)).toMatchObject({ product: 'unknown', final: 'false' })
    expect(trade(7)).toMatchObject({ product: 'unknown', final: 'unknown' })
  })

  it("reads the order's deadline from a CPG `expiresAt` or a trade event's `deadline`, as a date string only", () => {
    const at = '2026-11-20T10:30:00.000Z'
    expect(read({ data: { expiresAt: at } }).deadline).toBe(Date.parse(at))
    expect(read({ data: { trade: { event: { id: 2, deadline: at } } } }).deadline).toBe(Date.parse(at))
    expect(read({ data: { expiresAt: 'soon', trade: { event: { deadline: at } } } }).deadline).toBe(
      Date.parse(at),
    )
    expect(read({ data: { expiresAt: Date.parse(at) } }).deadline).toBeNull()
    expect(read({ expiresAt: at }).deadline).toBeNull()
  })

  it('a manual settlement or a completed transaction is final whatever the trade says', () => {
    const data = { fiatCurrency: 'INR', trade: { event: { id: 2 } } }
    expect(read({ data }).final).toBe('false')
    expect(read({ data: { ...data, manualSettlement: 1 } }).final).toBe('true')
    expect(read({ data: { ...data, manualSettlement: 0 } }).final).toBe('false')
    expect(read({ data: { ...data, transaction: { status: 'Completed' } } }).final).toBe('true')
  })

  it('tells a CPG payout from a pay-in without `type` by the fields only one carries', () => {
    expect(read({ data: { orderId: 'o', toAddress: '0x1', status: 'Completed' } })).toMatchObject({
      product: 'cpg-payout',
      final: 'true',
    })
    expect(read({ data: { orderId: 'o', depositAddress: 'T1', status: 'Paid' } }).product).toBe('cpg-pay-in')
    expect(read({ data: { orderId: 'o', status: 'Completed' } })).toMatchObject({
      product: 'unknown',
      final: 'unknown',
    })
    expect(read({ type: 'pay-in', data: { orderId: 'o', status: 'Under Payment' } }).final).toBe('unknown')
    expect(read({ type: 'pay-in', data: { orderId: 'o', status: 'pending' } }).final).toBe('false')
  })

  it('keeps every value exactly as the body decodes it: distinct ids stay distinct', () => {
    const ids = [
      'ORD-1',
      'ORD-\u00f11',
      'ORD-1\u200b',
      'ORD-\u00a01',
      ' ORD-1',
      'ORD-1 ',
      'ORD-\u65e5\u672c1',
      'ord-1',
      'ORD-1\r\nx-evil: 1',
      `${'x'.repeat(128)}a`,
      `${'x'.repeat(128)}b`,
    ]
    const read = ids.map((id) =>
      extractMetadata(Buffer.from(JSON.stringify({ data: { merchantOrderId: id } }))),
    )
    expect(read.map((m) => m.merchantOrderId)).toEqual(ids)
  })

  it('a value too long, or one that cannot be stored as it is (NUL, an unpaired surrogate), is absent', () => {
    for (const id of ['x'.repeat(MAX_VALUE_LENGTH + 1), 'a\u0000b', 'a\ud800b', 'a\udc00']) {
      expect(read({ data: { merchantOrderId: id, status: 'Paid' } }).merchantOrderId).toBeNull()
    }
    expect(read({ data: { merchantOrderId: 'x'.repeat(MAX_VALUE_LENGTH) } }).merchantOrderId).toHaveLength(
      MAX_VALUE_LENGTH,
    )
    expect(read({ data: { merchantOrderId: 'a\ud83d\ude00' } }).merchantOrderId).toBe('a\ud83d\ude00')
  })

  it('a key repeated in an object the metadata is read from leaves out all metadata', () => {
    const body = (text: string) => extractMetadata(Buffer.from(text))
    expect(body('{"type":"pay-in","data":{"orderId":"o","status":"Completed","status":"Failed"}}')).toEqual(
      NO_METADATA,
    )
    expect(body('{"data":{"orderId":"o","status":"Paid"},"data":{"orderId":"p"}}')).toEqual(NO_METADATA)
    expect(body('{"data":{"trade":{"event":{"id":4,"\\u0069d":1}}}}')).toEqual(NO_METADATA)
    expect(body('{"data":{"merchantOrderId":"m","merchantOrderId":"m"}}')).toEqual(NO_METADATA)
    // Elsewhere a repeated key changes nothing the metadata reads.
    expect(
      body(
        '{"data":{"orderId":"o","status":"Paid","userDetails":{"name":"a","name":"b"},"transactions":[{"h":1,"h":2}]}}',
      ),
    ).toMatchObject({ orderId: 'o', status: 'Paid' })
    expect(
      body('{"data":{"orderId":"o","status":"Paid","note":"\\"status\\":1,\\"status\\""}}'),
    ).toMatchObject({
      status: 'Paid',
    })
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
