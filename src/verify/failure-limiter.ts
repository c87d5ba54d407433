import { FAILURE_COST, FAILURE_LIMIT } from '../constants.js'

export type FailureLimitOptions = { readonly [K in keyof typeof FAILURE_LIMIT]: number }

interface Bucket {
  tokens: number
  refilledAt: number
  /** When this source last went past its limit; 0 when it never did. */
  overLimitAt: number
}

/**
 * The key an address is limited under: IPv4 as it is (an IPv4-mapped IPv6 address as its IPv4 form), IPv6
 * by its /64, since one host is routinely given a whole /64 and could rotate through it for free.
 */
export function addressKey(ip: string): string {
  if (!ip.includes(':')) return ip
  if (ip.startsWith('::ffff:') && ip.includes('.')) return ip.slice(7)
  const [head = '', tail] = ip.split('::')
  const groups = head === '' ? [] : head.split(':')
  if (tail !== undefined) {
    const rest = tail === '' ? [] : tail.split(':')
    const width = rest.reduce((n, group) => n + (group.includes('.') ? 2 : 1), 0)
    groups.push(...Array<string>(Math.max(0, 8 - groups.length - width)).fill('0'), ...rest)
  }
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, '').toLowerCase())
    .join(':')}::/64`
}

/**
 * What a refused request cost, in bytes of HMAC input: `hmacs` passes over the body (none for a missing or
 * malformed signature), plus the JSON fallback's parse and re-serialisation when it ran.
 */
export function failureCost(bytes: number, hmacs: number, fellBack: boolean): number {
  const weight = Math.max(1, hmacs * (fellBack ? 2 : 1) + (fellBack ? FAILURE_COST.fallbackWeight : 0))
  return Math.max(bytes, FAILURE_COST.minCost) * weight
}

/**
 * Counts the work refused requests (failed verifications, unknown services) cost, per source address, as
 * token buckets (FAILURE_LIMIT), and says when one more may cost in full. Memory is bounded: at most
 * `addresses` are tracked, the one refused least recently forgotten first; a global bucket caps the total
 * however many addresses there are. Nothing here runs for a request that verifies.
 */
export class FailureLimiter {
  readonly #options: FailureLimitOptions
  readonly #now: () => number
  readonly #buckets = new Map<string, Bucket>()
  readonly #global: Bucket
  /** When any source last went past its limit: while none has for `suspectMs`, nobody is a suspect. */
  #lastOverLimitAt = 0

  constructor(options: FailureLimitOptions = FAILURE_LIMIT, now: () => number = Date.now) {
    this.#options = options
    this.#now = now
    this.#global = { tokens: options.globalBurst, refilledAt: now(), overLimitAt: 0 }
  }

  /** Whether a refusal from `ip` may still cost in full (JSON fallback, quarantine). Records nothing. */
  allows(ip: string): boolean {
    const now = this.#now()
    if (this.#refill(this.#global, now, this.#options.globalBurst, this.#options.globalPerSecond) <= 0)
      return false
    const bucket = this.#buckets.get(addressKey(ip))
    return bucket === undefined || this.#refill(bucket, now, this.#options.burst, this.#options.perSecond) > 0
  }

  /**
   * Records a refusal from `ip` that cost `cost` (see failureCost); true when it was within the limit, and
   * so was allowed to cost in full. A bucket with anything left takes the whole cost, going into debt.
   */
  fail(ip: string, cost = 1): boolean {
    const now = this.#now()
    const key = addressKey(ip)
    let bucket = this.#buckets.get(key)
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#options.addresses) {
        const oldest = this.#buckets.keys().next().value
        if (oldest !== undefined) this.#buckets.delete(oldest)
      }
      bucket = { tokens: this.#options.burst, refilledAt: now, overLimitAt: 0 }
    } else {
      // Re-inserted so that the map's order is the order of the last refusal: the first key is the stalest.
      this.#buckets.delete(key)
    }
    this.#buckets.set(key, bucket)
    const own = this.#refill(bucket, now, this.#options.burst, this.#options.perSecond)
    const global = this.#refill(this.#global, now, this.#options.globalBurst, this.#options.globalPerSecond)
    if (own <= 0) {
      bucket.overLimitAt = now
      this.#lastOverLimitAt = now
    }
    if (own <= 0 || global <= 0) return false
    bucket.tokens -= cost
    this.#global.tokens -= cost
    return true
  }

  /** False while no source has gone past its limit for `suspectMs`: the guard then looks nobody up. */
  anySuspect(): boolean {
    return this.#lastOverLimitAt > 0 && this.#now() - this.#lastOverLimitAt < this.#options.suspectMs
  }

  /**
   * A source that went past its own limit within the last `suspectMs`: the overload guard sheds it before
   * anyone else. A few failures do not make a suspect (a rotation mistake must not get Tylt's addresses
   * shed); a flood does.
   */
  suspect(ip: string): boolean {
    const bucket = this.#buckets.get(addressKey(ip))
    return (
      bucket !== undefined &&
      bucket.overLimitAt > 0 &&
      this.#now() - bucket.overLimitAt < this.#options.suspectMs
    )
  }

  /** Addresses tracked now (bounded by `addresses`). */
  get tracked(): number {
    return this.#buckets.size
  }

  #refill(bucket: Bucket, now: number, burst: number, perSecond: number): number {
    const elapsed = Math.max(0, now - bucket.refilledAt)
    bucket.tokens = Math.min(burst, bucket.tokens + (elapsed * perSecond) / 1000)
    bucket.refilledAt = now
    return bucket.tokens
  }
}
