import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { PRODUCTS } from '../../src/core/event.js'
import { FINALITY } from '../../src/event/finality-table.js'

/** The rows of docs/metadata.md's "Finality by state" table: product, status, final. */
function documentedRows(): [string, string, string][] {
  const doc = readFileSync(new URL('../../docs/metadata.md', import.meta.url), 'utf8')
  const section = doc.split('## Finality by state')[1]!.split('\n## ')[0]!
  return [...section.matchAll(/^\| `([^`]+)` \| `([^`]+)` \| `([^`]+)` \| (.+) \|$/gm)].map((m) => [
    m[1]!,
    m[2]!.toLowerCase(),
    m[3]!,
  ])
}

describe('the finality table', () => {
  it('is the one docs/metadata.md shows, row for row, each row naming its Tylt page', () => {
    const inCode = Object.entries(FINALITY).flatMap(([product, states]) =>
      Object.entries(states ?? {}).map(([status, final]) => [product, status, final]),
    )
    const rows = documentedRows()
    expect(rows.length).toBeGreaterThan(40)
    expect(rows.sort()).toEqual(inCode.sort())
  })

  it('only names products the relay knows', () => {
    for (const product of Object.keys(FINALITY)) expect(PRODUCTS).toContain(product)
  })
})
