interface Bucket {
  tokens: number
  at: number
}

/**
 * Token buckets per key (a source address), at most `maxKeys` of them: the least recently seen key is
 * forgotten first, so a flood from ever new addresses costs bounded memory. A forgotten key starts again
 * with a full bucket.
 */
export class TokenBuckets {
  readonly #buckets = new Map<string, Bucket>()
  readonly #capacity: number
  readonly #perMs: number
  readonly #maxKeys: number

  constructor(capacity: number, perSecond: number, maxKeys: number) {
    this.#capacity = capacity
    this.#perMs = perSecond / 1000
    this.#maxKeys = maxKeys
  }

  /** Takes `cost` tokens from the key's bucket when it holds them; false (and nothing taken) otherwise. */
  take(key: string, now: number, cost = 1): boolean {
    const bucket = this.#refilled(key, now)
    if (bucket.tokens < cost) return false
    bucket.tokens -= cost
    return true
  }

  /** Takes `cost` tokens whatever the bucket holds, down to empty; returns what is left. */
  spend(key: string, now: number, cost: number): number {
    const bucket = this.#refilled(key, now)
    bucket.tokens = Math.max(0, bucket.tokens - cost)
    return bucket.tokens
  }

  get size(): number {
    return this.#buckets.size
  }

  #refilled(key: string, now: number): Bucket {
    let bucket = this.#buckets.get(key)
    if (bucket === undefined) {
      bucket = { tokens: this.#capacity, at: now }
      if (this.#buckets.size >= this.#maxKeys) this.#buckets.delete(this.#buckets.keys().next().value!)
    } else {
      // Re-inserted, so the map's order is the order keys were last seen in.
      this.#buckets.delete(key)
      bucket.tokens = Math.min(this.#capacity, bucket.tokens + Math.max(0, now - bucket.at) * this.#perMs)
      bucket.at = now
    }
    this.#buckets.set(key, bucket)
    return bucket
  }
}
