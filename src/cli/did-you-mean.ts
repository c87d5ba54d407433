/** Edit distance between two short words (insertions, deletions and substitutions). */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution))
    }
    previous = current
  }
  return previous[b.length]!
}

/**
 * The candidate closest to a mistyped word, when it is close enough to be what was meant (at most a third
 * of its letters differ, or it starts the same way); undefined otherwise.
 */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const typed = word.toLowerCase()
  let best: { candidate: string; cost: number } | undefined
  for (const candidate of candidates) {
    const lower = candidate.toLowerCase()
    const cost = lower.startsWith(typed) && typed.length >= 2 ? 0.5 : distance(typed, lower)
    if (best === undefined || cost < best.cost) best = { candidate, cost }
  }
  if (best === undefined) return undefined
  return best.cost <= Math.max(1, Math.floor(best.candidate.length / 3)) ? best.candidate : undefined
}
