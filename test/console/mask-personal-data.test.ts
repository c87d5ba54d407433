import { describe, expect, test } from 'vitest'
import { MASK, maskPersonalData } from '../../src/console/mask-personal-data.js'
import { fixture } from '../helpers/fixtures.js'

describe('maskPersonalData', () => {
  test('masks userDetails as a whole, and nothing of it is left in the text', () => {
    const { text, masked, json } = maskPersonalData(fixture('upi-trade.json'))
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

  test('masks fields named like personal data, and values that look like an email or a phone number', () => {
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
    const { text, masked } = maskPersonalData(Buffer.from(JSON.stringify(body)))
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

  test('free text that holds an email address or a phone number is masked whole, other text stays', () => {
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
    const { text, masked } = maskPersonalData(Buffer.from(JSON.stringify({ data: { notes } })))
    expect(JSON.parse(text).data.notes).toEqual([MASK, MASK, MASK, ...notes.slice(3)])
    expect(text).not.toContain('Ana Silva')
    expect(masked).toBe(3)
  })

  test('a body that is not JSON is masked as a whole', () => {
    expect(maskPersonalData(fixture('not-json.txt'))).toEqual({ text: MASK, masked: 1, json: false })
  })

  test('revealed, the body is shown in full', () => {
    const revealed = maskPersonalData(fixture('upi-trade.json'), true)
    expect(revealed.masked).toBe(0)
    expect(JSON.parse(revealed.text)).toEqual(JSON.parse(fixture('upi-trade.json').toString()))
    expect(maskPersonalData(fixture('not-json.txt'), true).text).toBe(fixture('not-json.txt').toString())
  })
})
