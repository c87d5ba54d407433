// Small statistics shared by the bench's scenarios and reports.

/** The median of `values` (the mean of the middle two for an even count). */
export const median = (values) => {
  const sorted = [...values].sort((x, y) => x - y)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** The `p`th percentile of wrk's [µs, count] pairs pooled from several runs, ranked as wrk ranks them. */
export function pooledPercentile(histograms, p) {
  const counts = new Map()
  for (const histogram of histograms)
    for (const [us, n] of histogram) counts.set(us, (counts.get(us) ?? 0) + n)
  const values = [...counts.keys()].sort((a, b) => a - b)
  const total = values.reduce((a, us) => a + counts.get(us), 0)
  const rank = Math.round((p / 100) * total + 0.5)
  let seen = 0
  for (const us of values) {
    seen += counts.get(us)
    if (seen >= rank) return us
  }
  return values.at(-1) ?? 0
}
