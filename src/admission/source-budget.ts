import { ADMISSION, type AdmissionLimits } from './admission-limits.js'
import { TokenBuckets } from './token-buckets.js'

/**
 * The key a source is budgeted under: IPv4 as it is (an IPv4-mapped IPv6 address as its IPv4 form), IPv6 by
 * its /64, since one host is routinely given a whole /64 and could rotate through it for free.
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

/** Sets `key` last in `map` (its order is then the order keys were last set in), forgetting the stalest past `max`. */
function remember(map: Map<string, number>, key: string, value: number, max: number): void {
  map.delete(key)
  if (map.size >= max) map.delete(map.keys().next().value!)
  map.set(key, value)
}

/**
 * What the webhook path asks of admission about a source address. Nothing here runs for a request that
 * verifies except `verified`, one map write.
 */
export interface SourceStanding {
  /** Out of budget lately: no JSON fallback, no quarantine, no body larger than a callback. */
  penalised(address: string): boolean
  /** A request from `address` verified. */
  verified(address: string): void
  /** A request from `address` verified within `verifiedMs`. */
  verifiedRecently(address: string): boolean
}

/**
 * One token bucket of bytes per source address, charged by what its refused requests cost to read. There is
 * no bucket shared by all sources: a flood from many addresses penalises each of them, never a source whose
 * own requests are within budget (no global kill switch).
 */
export class SourceBudget implements SourceStanding {
  readonly #limits: AdmissionLimits
  readonly #now: () => number
  readonly #budgets: TokenBuckets
  /** Penalised sources, by when their penalty ends. */
  readonly #penalties = new Map<string, number>()
  /** Verified sources, by when a request of theirs last verified. */
  readonly #verified = new Map<string, number>()

  constructor(limits: Partial<AdmissionLimits> = {}, now: () => number = Date.now) {
    this.#limits = { ...ADMISSION, ...limits }
    this.#now = now
    const { budgetBytes, refillBytesPerSecond, sources } = this.#limits
    this.#budgets = new TokenBuckets(budgetBytes, refillBytesPerSecond, sources)
  }

  /** A request from `address` was refused after `bytes` of it were read. */
  charge(address: string, bytes: number): void {
    const key = addressKey(address)
    const now = this.#now()
    if (this.#budgets.spend(key, now, bytes) <= 0)
      remember(this.#penalties, key, now + this.#limits.penaltyMs, this.#limits.sources)
  }

  penalised(address: string): boolean {
    if (this.#penalties.size === 0) return false
    const key = addressKey(address)
    const until = this.#penalties.get(key)
    if (until === undefined) return false
    if (until > this.#now()) return true
    this.#penalties.delete(key)
    return false
  }

  verified(address: string): void {
    remember(this.#verified, addressKey(address), this.#now(), this.#limits.sources)
  }

  verifiedRecently(address: string): boolean {
    const at = this.#verified.get(addressKey(address))
    return at !== undefined && this.#now() - at < this.#limits.verifiedMs
  }

  /** Sources with a budget now (bounded by `sources`). */
  get tracked(): number {
    return this.#budgets.size
  }
}
