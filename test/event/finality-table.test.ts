import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { PRODUCTS } from '../../src/core/event.js'
import { FINALITY, UNDOCUMENTED_STATES } from '../../src/event/finality-table.js'

const UNDOCUMENTED_HEADING = '### States not documented'

/** docs/metadata.md's "Finality by state" section: the table by state, then the states not documented. */
function documentedTables(): [string, string] {
  const doc = readFileSync(new URL('../../docs/metadata.md', import.meta.url), 'utf8')
  const section = doc.split('## Finality by state')[1]!.split('\n## ')[0]!
  const [byState, undocumented] = section.split(UNDOCUMENTED_HEADING)
  return [byState!, undocumented ?? '']
}

/** A table's rows whose first three cells are code: product, status (or currency), final. */
function rows(table: string): [string, string, string][] {
  return [...table.matchAll(/^\| `([^`]+)` \| `([^`]+)` \| `([^`]+)` \| (.+) \|$/gm)].map((m) => [
    m[1]!,
    m[2]!,
    m[3]!,
  ])
}

describe('the finality table', () => {
  it('is the one docs/metadata.md shows, row for row, each row naming its Tylt page', () => {
    const inCode = Object.entries(FINALITY).flatMap(([product, states]) =>
      Object.entries(states ?? {}).map(([status, final]) => [product, status, final]),
    )
    const documented = rows(documentedTables()[0]).map(([p, status, f]) => [p, status.toLowerCase(), f])
    expect(documented.length).toBeGreaterThan(40)
    expect(documented.sort()).toEqual(inCode.sort())
  })

  it('makes every state unknown for exactly the families docs/metadata.md lists as not documented', () => {
    const inCode = Object.entries(UNDOCUMENTED_STATES).flatMap(([product, currencies]) =>
      (currencies ?? []).map((currency) => [product, currency, 'unknown']),
    )
    const documented = rows(documentedTables()[1])
    expect(documented).toEqual([['eu-open-banking', 'PHP', 'unknown']])
    expect(documented.sort()).toEqual(inCode.sort())
  })

  it('only names products the relay knows', () => {
    for (const product of [...Object.keys(FINALITY), ...Object.keys(UNDOCUMENTED_STATES)])
      expect(PRODUCTS).toContain(product)
  })
})
