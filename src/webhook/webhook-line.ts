import type { Logger } from 'pino'
import { addressKey } from '../admission/source-budget.js'
import { TokenBuckets } from '../admission/token-buckets.js'

/**
 * Refusal lines one source address may write: `burst` at once, then `perSecond`; the lines past that are
 * counted, and the source's next line written says how many (`suppressed`). Every refusal is still counted
 * in the metrics. At most `sources` addresses are tracked, the stalest forgotten first.
 */
export const REFUSAL_LOG: RefusalLogLimits = { burst: 20, perSecond: 1, sources: 10_000 }

export interface RefusalLogLimits {
  readonly burst: number
  readonly perSecond: number
  readonly sources: number
}

/** The fields every webhook line carries; what a refusal adds is free-form. */
interface WebhookLine {
  readonly statusCode: number
  readonly ip: string
  readonly [field: string]: unknown
}

/**
 * Writes the one line per webhook request: an acceptance (2xx) at `info`; a refusal (401, 404, 413, 503,
 * any 4xx or 5xx) at `warn`, since Tylt never retries it, rate-limited per source so that a flood cannot
 * fill the log.
 */
export function webhookLineWriter(
  log: Logger,
  limits = REFUSAL_LOG,
  now: () => number = Date.now,
): (line: WebhookLine) => void {
  const allowed = new TokenBuckets(limits.burst, limits.perSecond, limits.sources)
  const suppressed = new Map<string, number>()
  return (line) => {
    if (line.statusCode < 400) return log.info(line, 'webhook')
    const key = addressKey(line.ip)
    const count = suppressed.get(key) ?? 0
    if (!allowed.take(key, now())) {
      suppressed.delete(key)
      if (suppressed.size >= limits.sources) suppressed.delete(suppressed.keys().next().value!)
      suppressed.set(key, count + 1)
      return
    }
    if (count === 0) return log.warn(line, 'webhook')
    suppressed.delete(key)
    log.warn({ ...line, suppressed: count }, 'webhook')
  }
}
