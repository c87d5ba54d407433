import type { Registry } from 'prom-client'

/** The counter the webhook route bumps for every verified callback, by the secret slot that matched. */
const SECRET_MATCHES = 'tylt_relay_secret_matches_total'

export interface SlotUse {
  readonly service: string
  /** `current` (the first secret listed) or `older`. */
  readonly slot: string
  /** Matches since the relay started. */
  readonly matches: number
  /** When the count was last seen to grow (sampled, so up to one sample interval late); null if never. */
  readonly lastSeenAt: number | null
}

/**
 * Which secret matched recently, per service: how far a key rotation has got. It reads the existing counter
 * (nothing is added to the webhook path) and remembers when each count last grew, sampling it on a timer
 * and whenever the console asks.
 */
export class SlotWatch {
  readonly #registry: Registry
  readonly #now: () => number
  readonly #seen = new Map<string, { matches: number; lastSeenAt: number | null }>()
  #timer: NodeJS.Timeout | undefined

  constructor(registry: Registry, now: () => number = Date.now) {
    this.#registry = registry
    this.#now = now
  }

  start(intervalMs: number): void {
    void this.sample()
    this.#timer ??= setInterval(() => void this.sample(), intervalMs).unref()
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  async sample(): Promise<SlotUse[]> {
    const metric = this.#registry.getSingleMetric(SECRET_MATCHES)
    const values = metric === undefined ? [] : (await metric.get()).values
    const counts = new Map<string, number>()
    for (const { labels, value } of values) {
      const key = `${labels.service}\n${labels.slot}`
      counts.set(key, (counts.get(key) ?? 0) + value)
    }
    const now = this.#now()
    for (const [key, matches] of counts) {
      const before = this.#seen.get(key)
      const grew = matches > (before?.matches ?? 0)
      this.#seen.set(key, { matches, lastSeenAt: grew ? now : (before?.lastSeenAt ?? null) })
    }
    return [...this.#seen]
      .map(([key, seen]) => {
        const [service = '', slot = ''] = key.split('\n')
        return { service, slot, ...seen }
      })
      .sort((a, b) => a.service.localeCompare(b.service) || a.slot.localeCompare(b.slot))
  }
}
