import { UsageError } from '../errors.js'
import { didYouMean } from './did-you-mean.js'
import { type CatalogueRow, FAMILIES, type Family, statesOf } from './trigger-catalogue.js'

/** What one `trigger` sends: a family and its states, in order. */
export interface TriggerPlan {
  readonly family: Family
  readonly steps: readonly CatalogueRow[]
}

const hint = (word: string, known: readonly string[]) => {
  const guess = didYouMean(word, known)
  return guess === undefined ? `; one of ${known.join(', ')}` : `; did you mean "${guess}"?`
}

export function findFamily(name: string | undefined): Family {
  const names = FAMILIES.map((f) => f.name)
  if (name === undefined) throw new UsageError(`trigger needs a FAMILY: ${names.join(', ')}`)
  const family = FAMILIES.find((f) => f.name === name.toLowerCase())
  if (family === undefined) throw new UsageError(`unknown family "${name}"${hint(name, names)}`)
  return family
}

/** A state by its name (`awaiting-payment`), else by its wire value (`2`, `Under Payment`), any case. */
export function findState(family: Family, text: string): CatalogueRow {
  const rows = statesOf(family)
  const typed = text.toLowerCase()
  // Names first: `upi completed` is trade event 4, as the page calls it; `transaction-completed` the other.
  const row =
    rows.find((r) => r.state === typed.replaceAll(' ', '-')) ??
    rows.find((r) => r.wire.toLowerCase() === typed)
  if (row !== undefined) return row
  const known = rows.map((r) => r.state)
  throw new UsageError(
    `${family.name} has no state "${text}"${hint(text, [...known, ...rows.map((r) => r.wire)])}`,
  )
}

const keyOf = (row: CatalogueRow) => row.wire.toLowerCase()

/**
 * `--sequence`: the states that lead to `target` in the family's lifecycle. A state on the path that ends
 * well gets the path up to it (and a refund the path through the success); any other state follows the
 * path's states that are not final yet, e.g. UPI expired after 1, 2, 3.
 */
export function sequenceTo(family: Family, target: CatalogueRow | undefined): CatalogueRow[] {
  const row = (key: string) => findState(family, key)
  const path = family.path.map(row)
  if (target === undefined) return path
  const onPath = family.path.indexOf(keyOf(target))
  if (onPath >= 0) return path.slice(0, onPath + 1)
  const after = family.after?.indexOf(keyOf(target)) ?? -1
  if (after >= 0) return [...path, ...family.after!.slice(0, after + 1).map(row)]
  const open = path.findIndex((r) => r.final !== 'false')
  return [...path.slice(0, open < 0 ? path.length : open), target]
}

/** Reads `FAMILY [STATE]` (and `--sequence`) into the states to send. */
export function triggerPlan(familyName: string | undefined, state: string | undefined, sequence: boolean) {
  const family = findFamily(familyName)
  if (state === undefined && !sequence)
    throw new UsageError(
      `trigger ${family.name} needs a STATE (or --sequence): ${statesOf(family)
        .map((r) => r.state)
        .join(', ')}`,
    )
  const target = state === undefined ? undefined : findState(family, state)
  return { family, steps: sequence ? sequenceTo(family, target) : [target!] } satisfies TriggerPlan
}
