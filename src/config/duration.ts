const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy

/**
 * Parses durations such as `72h`, `30s`, `1h30m` or `500ms` into milliseconds. A bare number is refused:
 * `RETRY_MAX_AGE=72` could mean seconds or hours, and guessing wrong loses payments.
 */
export function parseDuration(text: string): number | undefined {
  const input = text.trim()
  if (input === '') return undefined
  PART.lastIndex = 0
  let total = 0
  let consumed = 0
  for (let match = PART.exec(input); match !== null; match = PART.exec(input)) {
    total += Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]
    consumed = PART.lastIndex
  }
  return consumed === input.length && Number.isFinite(total) ? Math.round(total) : undefined
}
