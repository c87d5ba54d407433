import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hasDuplicateKey } from '../../src/event/duplicate-keys.js'

const EVERY_OBJECT = { has: () => true } as unknown as ReadonlySet<string>
const key = fc.string({
  unit: fc.constantFrom('a', 'b', '"', '\\', '\u0000', '\u00e9', '{', '}', ',', ':'),
  maxLength: 4,
})

describe('hasDuplicateKey', () => {
  it('never sees a repeated key in what JSON.stringify writes, whatever the keys and strings hold', () => {
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 5 }),
        fc.dictionary(key, fc.jsonValue({ maxDepth: 2 })),
        (value, root) => {
          expect(hasDuplicateKey(JSON.stringify({ ...root, data: value }), EVERY_OBJECT)).toBe(false)
          expect(hasDuplicateKey(JSON.stringify({ ...root, data: value }, null, 2), EVERY_OBJECT)).toBe(false)
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('sees a key written twice in an object it tracks, also when one is escaped, and only there', () => {
    fc.assert(
      fc.property(fc.dictionary(key, fc.jsonValue({ maxDepth: 2 }), { minKeys: 1 }), (object) => {
        const text = JSON.stringify(object)
        const [first] = Object.keys(object)
        const escaped = JSON.stringify(first).replace(/a/g, '\\u0061')
        const repeated = `${text.slice(0, -1)},${escaped}:1}`
        expect(hasDuplicateKey(repeated)).toBe(true)
        expect(hasDuplicateKey(`{"data":${repeated}}`)).toBe(true)
        expect(hasDuplicateKey(`{"other":${repeated}}`)).toBe(false)
        expect(hasDuplicateKey(`{"data":{"trade":[${repeated}]}}`)).toBe(false)
      }),
      { numRuns: 500 },
    )
  })
})
