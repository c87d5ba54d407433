/**
 * Delay before the next attempt after `failures` consecutive failures: exponential from `baseMs`, capped at
 * `maxMs`, with jitter so that several relays behind one broker do not retry in step.
 */
export function backoffDelay(failures: number, baseMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1))
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}
