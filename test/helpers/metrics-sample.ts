/**
 * The value of one Prometheus sample (the first whose labels include `labels`), or undefined when the
 * exposition has none.
 */
export function sample(
  metrics: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of metrics.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line)
    if (match === null || match[1] !== name) continue
    const set = match[2] ?? ''
    if (Object.entries(labels).every(([key, value]) => set.includes(`${key}="${value}"`)))
      return Number(match[3])
  }
  return undefined
}
