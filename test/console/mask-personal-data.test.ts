import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { SLICE_NODES, writeJson } from '../../src/console/bounded-json.js'
import { LONG_STRING, MASK, MAX_SHOWN_CHARS, maskPersonalData } from '../../src/console/mask-personal-data.js'
import { fixture } from '../helpers/fixtures.js'

describe('maskPersonalData', () => {
  test('masks userDetails as a whole, and nothing of it is left in the text', async () => {
    const { text, masked, json } = await maskPersonalData(fixture('upi-trade.json'))
    expect(json).toBe(true)
    expect(JSON.parse(text).data.userDetails).toBe(MASK)
    for (const personal of ['Asha', 'Verma', 'asha.verma@example.com', '1990-04-12'])
      expect(text).not.toContain(personal)
    // A trade event's name is not a person's, and amounts and ids stay readable.
    expect(JSON.parse(text).data.trade).toEqual({
      isBuyTrade: true,
      fiatAmount: '1500.00',
      fiatCurrency: 'INR',
      event: { id: '4', name: 'completed' },
    })
    expect(masked).toBe(1)
  })

  test('masks fields named like personal data, and values that look like an email or a phone number', async () => {
    const body = {
      data: {
        customer: {
          firstName: 'Ana',
          lastName: 'Silva',
          phoneNumber: '11 99999-0000',
          birthDate: '1985-01-01',
        },
        payerEmail: 'ana@example.com',
        note: 'contact ana.silva@example.org',
        reference: 'ana.silva@example.org',
        contact: '+55 11 99999 0000',
        billingAddress: { street: 'Rua A', city: 'São Paulo' },
        amount: 1500,
        createdAt: '2026-11-20T10:00:00.000Z',
        emptyName: '',
      },
    }
    const { text, masked } = await maskPersonalData(Buffer.from(JSON.stringify(body)))
    const data = JSON.parse(text).data
    expect(data.customer).toEqual({ firstName: MASK, lastName: MASK, phoneNumber: MASK, birthDate: MASK })
    expect([data.payerEmail, data.note, data.reference, data.contact, data.billingAddress]).toEqual([
      MASK,
      MASK,
      MASK,
      MASK,
      MASK,
    ])
    expect([data.amount, data.createdAt, data.emptyName]).toEqual([1500, '2026-11-20T10:00:00.000Z', ''])
    expect(masked).toBe(9)
  })

  test('free text that holds an email address or a phone number is masked whole, other text stays', async () => {
    // A list, so that no key name gives a value away: only what each text holds decides.
    const notes = [
      'contact Ana Silva at ana.silva@example.org after 6pm',
      'payer asked for a call on +91 98765 43210',
      'call +1 (555) 123-4567',
      'refund of +1500.00 INR requested',
      'settled 2026-11-20T10:00:00+05:30',
      'sent @ 10:00 by the desk',
      'paid in full, thank you',
    ]
    const { text, masked } = await maskPersonalData(Buffer.from(JSON.stringify({ data: { notes } })))
    expect(JSON.parse(text).data.notes).toEqual([MASK, MASK, MASK, ...notes.slice(3)])
    expect(text).not.toContain('Ana Silva')
    expect(masked).toBe(3)
  })

  test('a body that is not JSON is masked as a whole', async () => {
    expect(await maskPersonalData(fixture('not-json.txt'))).toEqual({
      text: MASK,
      masked: 1,
      json: false,
      cut: false,
    })
  })

  test('revealed, the body is shown in full', async () => {
    const revealed = await maskPersonalData(fixture('upi-trade.json'), true)
    expect(revealed.masked).toBe(0)
    expect(JSON.parse(revealed.text)).toEqual(JSON.parse(fixture('upi-trade.json').toString()))
    expect((await maskPersonalData(fixture('not-json.txt'), true)).text).toBe(
      fixture('not-json.txt').toString(),
    )
  })

  test('shows a body as JSON.stringify would indent it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 8 }), async (value) => {
        const shown = await maskPersonalData(Buffer.from(JSON.stringify(value)), true)
        expect(shown.text).toBe(JSON.stringify(value, null, 2))
      }),
      { numRuns: 300 },
    )
  })

  test('a long string is masked whole without being searched; shorter text is still read', async () => {
    const note = 'a.'.repeat(125_000) // no `@`: the case that made an e-mail pattern backtrack
    const long = await maskPersonalData(
      Buffer.from(JSON.stringify({ data: { note, id: 'x'.repeat(LONG_STRING) } })),
    )
    expect(JSON.parse(long.text).data).toEqual({ note: MASK, id: 'x'.repeat(LONG_STRING) })
    expect(long.masked).toBe(1)
    const mail = `${'a'.repeat(900)}@example.org`
    expect(JSON.parse((await maskPersonalData(Buffer.from(JSON.stringify({ mail })))).text).mail).toBe(MASK)
  })

  test('a body nested 5,000 deep is shown, its indentation bounded, and cut at the bound', async () => {
    const depth = 5_000
    const body = Buffer.from(`{"userDetails":{"name":"Ana"},"x":${'['.repeat(depth)}1${']'.repeat(depth)}}`)
    const shown = await maskPersonalData(body)
    expect(shown.json).toBe(true)
    expect(shown.masked).toBe(1)
    expect(shown.text.startsWith(`{\n  "userDetails": "${MASK}",\n  "x": [\n    [`)).toBe(true)
    expect(Math.max(...shown.text.split('\n').map((line) => line.length))).toBeLessThan(80)
    expect(shown.cut).toBe(true)
    expect(shown.text.length).toBeLessThan(MAX_SHOWN_CHARS + 100)
    expect(shown.text.endsWith(`cut here: the body is ${body.length} bytes`)).toBe(true)
  })

  test('a large body is written in slices, so the caller can yield between them', () => {
    const items = Array.from({ length: 10 * SLICE_NODES }, (_, i) => ({ i }))
    const writer = writeJson(items, { replace: (_key, value) => value }, [], MAX_SHOWN_CHARS)
    let slices = 0
    while (writer.next().done !== true) slices++
    expect(slices).toBeGreaterThanOrEqual(10)
  })
})
