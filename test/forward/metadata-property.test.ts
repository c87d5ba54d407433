import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { extractMetadata } from '../../src/event/extract-metadata.js'
import { metadataHeaders } from '../../src/forward/metadata-headers.js'
import { bodyWith, metadataValue, READ_FIELDS } from '../event/metadata-values.js'

describe('metadata read from a body', () => {
  it('is, in the store and in every header, exactly the value the body decodes to, or absent', () => {
    fc.assert(
      fc.property(metadataValue, metadataValue, metadataValue, (orderId, merchantOrderId, status) => {
        const body = Buffer.from(bodyWith(orderId, merchantOrderId, status))
        const decoded = (JSON.parse(body.toString('utf8')) as { data: Record<string, unknown> }).data
        const metadata = extractMetadata(body)
        const headers = metadataHeaders({
          id: 'evt_1',
          service: 'cpg',
          acceptedAt: 0,
          signature: 'ab',
          body,
          recovered: null,
          ...metadata,
        })
        for (const [header, field] of READ_FIELDS) {
          const original = String(decoded[field])
          expect([null, original]).toContain(metadata[field])
          expect([undefined, original]).toContain(headers[header])
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('keeps distinct ids distinct wherever an id is kept', () => {
    fc.assert(
      fc.property(metadataValue, metadataValue, (a, b) => {
        fc.pre(String(a) !== String(b))
        const read = (id: string | number) =>
          extractMetadata(Buffer.from(bodyWith('o', id, 'Paid'))).merchantOrderId
        const [x, y] = [read(a), read(b)]
        expect(x !== null && x === y).toBe(false)
      }),
      { numRuns: 2000 },
    )
  })
})
