import fc from 'fast-check'

/** Characters that look alike, vanish, or break a header: the ways two ids can collapse into one. */
const TRICKY = [
  ' ',
  '\t',
  '\n',
  '\r',
  '\u0000',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u009b',
  '\u00a0',
  '\u200b',
  '\u2028',
  '\u3000',
  '\ufeff',
  '\ud800',
  '\udc00',
  ':',
  '"',
  '\\',
]

const unit = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.constantFrom(...TRICKY) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
)

/** A value a body may hold where an id or a status is read: short or long strings of any kind, or numbers. */
export const metadataValue: fc.Arbitrary<string | number> = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit, maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit, minLength: 120, maxLength: 700 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'ORD-1',
      'ORD-\u00f11',
      'ORD-1\u200b',
      'ORD-\u00a01',
      ' ORD-1',
      'ORD-\u65e5\u672c1',
    ),
  },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })) },
)

/** A CPG-shaped body holding the three values where the metadata reads them. */
export const bodyWith = (orderId: unknown, merchantOrderId: unknown, status: unknown, n = 0): string =>
  JSON.stringify({ type: 'pay-in', data: { orderId, merchantOrderId, status, depositAddress: `T${n}` } })

/** The metadata names read from the body, and where the body holds each one. */
export const READ_FIELDS = [
  ['tylt-order-id', 'orderId'],
  ['tylt-merchant-order-id', 'merchantOrderId'],
  ['tylt-status', 'status'],
] as const
