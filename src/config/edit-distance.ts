/**
 * The optimal string alignment distance: insertions, deletions, substitutions and transpositions of
 * neighbours each cost one, so `FORWARD_ULR` is one edit from `FORWARD_URL`.
 */
export function editDistance(a: string, b: string): number {
  let before = Array.from({ length: b.length + 1 }, () => 0)
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, before[j - 2]! + 1)
      current.push(best)
    }
    before = previous
    previous = current
  }
  return previous[b.length]!
}

/** The candidate closest to `word` within `max` edits (the first of equals), or undefined. */
export function closest(word: string, candidates: readonly string[], max: number): string | undefined {
  let found: string | undefined
  let distance = max + 1
  for (const candidate of candidates) {
    const d = editDistance(word, candidate)
    if (d < distance) {
      found = candidate
      distance = d
    }
  }
  return found
}
