/**
 * A request refused on a webhook path (bad signature, unknown service), kept with its exact bytes so that
 * an operator who fixes the mistake can accept it after all. Never forwarded, never counted as accepted.
 */
export type QuarantineReason = 'missing' | 'malformed' | 'mismatch' | 'unknown_service'

export interface QuarantinedRequest {
  /** `q_` + random; not derived from the body (forgeries may repeat bytes). */
  readonly id: string
  readonly receivedAt: number
  readonly reason: QuarantineReason
  /** The path it arrived on, bounded in length. */
  readonly path: string
  /** The service the path asked for, or null for `POST /webhooks`. */
  readonly service: string | null
  readonly sourceAddress: string
  readonly signature: string | null
  readonly contentType: string | null
  readonly userAgent: string | null
  readonly body: Buffer
  /**
   * The address it came from has sent callbacks that verified: such requests are the likeliest to be Tylt's
   * own (a rotated key, a service not configured yet) and are evicted last (`isReserved`).
   */
  readonly fromVerifiedSource: boolean
}

/** A kept request without its body; `bytes` is the body's length. */
export type QuarantineSummary = Omit<QuarantinedRequest, 'body'> & { readonly bytes: number }

/** What the quarantine holds; `bytes` as counted against QUARANTINE_MAX_BYTES (`requestBytes`). */
export interface QuarantineStats {
  readonly count: number
  readonly bytes: number
}

/** QUARANTINE_MAX_BYTES, and the receive time before which a request has outlived QUARANTINE_MAX_AGE. */
export interface QuarantineBound {
  readonly maxBytes: number
  readonly cutoff: number
}

/** What one `add` or `trim` dropped: past the age, evicted (not reserved), and reserved requests evicted. */
export interface Evictions {
  readonly expired: number
  readonly evicted: number
  readonly evictedReserved: number
}

export const NO_EVICTIONS: Evictions = { expired: 0, evicted: 0, evictedReserved: 0 }

/** The bound of an `add` without one. */
export const UNBOUNDED: QuarantineBound = { maxBytes: Number.MAX_SAFE_INTEGER, cutoff: 0 }

/**
 * The share of QUARANTINE_MAX_BYTES that requests which are not reserved may never use, so that a flood from
 * any number of addresses leaves room for the reserved ones without evicting at the moment they arrive.
 */
export const RESERVE_SHARE = 0.25

/**
 * Whether a request is reserved: well-formed (it carries a signature of the right form that did not match,
 * or names a service not configured) and from an address that has sent verified callbacks. A rotated key or
 * a new service refuses exactly such requests; a flood rarely can send them.
 */
export const isReserved = (r: Pick<RefusedRequest, 'fromVerifiedSource' | 'reason'>): boolean =>
  r.fromVerifiedSource && (r.reason === 'mismatch' || r.reason === 'unknown_service')

/**
 * How both stores evict once the bound is passed, one request at a time, until the total fits `maxBytes`
 * and the requests that are not reserved fit `maxBytes` less the reserve (RESERVE_SHARE):
 * 1. requests that are not reserved, from the source address holding the most bytes of them, oldest first;
 * 2. only when none is left: reserved requests, in the same order. Each such eviction is counted
 *    (`evicted_verified_source`) and alerted on: an operator should act before it happens.
 * A flood from many addresses therefore evicts its own requests first, and a source that sends few keeps them.
 */
export function evictionTarget(
  bound: QuarantineBound,
  totals: { readonly bytes: number; readonly reservedBytes: number },
): { readonly class: 'others' | 'reserved'; readonly excess: number } | undefined {
  const others = totals.bytes - totals.reservedBytes
  const excessOthers = Math.max(
    totals.bytes - bound.maxBytes,
    others - Math.floor(bound.maxBytes * (1 - RESERVE_SHARE)),
  )
  if (others > 0 && excessOthers > 0) return { class: 'others', excess: Math.min(others, excessOthers) }
  const excess = totals.bytes - bound.maxBytes
  return excess > 0 ? { class: 'reserved', excess } : undefined
}

/** Where quarantined requests are kept; an adapter per backend, like the event store. */
export interface QuarantineStore {
  /** Newest first. */
  list(limit: number): Promise<QuarantineSummary[]>
  get(id: string): Promise<QuarantinedRequest | undefined>
  /** Removes these (or, with `'all'`, every) requests; returns how many were removed. */
  remove(ids: readonly string[] | 'all'): Promise<number>
  stats(): Promise<QuarantineStats>
  /**
   * Keeps these requests, then evicts (`evictionTarget`) until what is kept fits `bound`, in one transaction:
   * the total never passes the bound once it returns. No fsync of its own (a crash may lose the last
   * moments: docs/quarantine.md). Without a bound (tools, tests) nothing is dropped.
   */
  add(requests: readonly QuarantinedRequest[], bound?: QuarantineBound): Promise<Evictions>
  /** Drops requests received before `bound.cutoff`, then evicts as `add` does. */
  trim(bound: QuarantineBound): Promise<Evictions>
  close(): Promise<void>
}

/** What the webhook path saw of a request it refused; the quarantine decides whether to keep it. */
export type RefusedRequest = Omit<QuarantinedRequest, 'id'>

/**
 * Told of every request refused on a webhook path. Called on the path that answers callbacks, so it must be
 * cheap, must not throw and must not wait: keeping the request happens later, off that path.
 */
export interface RefusalObserver {
  refused(request: RefusedRequest): void
}

/** Why a refused request was not kept. */
export type QuarantineDropCause =
  | 'rate_limited'
  | 'queue_full'
  | 'too_large'
  | 'write_failed'
  | 'expired'
  | 'evicted'
  | 'evicted_verified_source'

/** What the quarantine tells the metrics; ops implements it. */
export interface QuarantineObserver {
  /**
   * `service` is a bounded label: the configured service a 401 was for, `*` for `POST /webhooks`, `unknown`
   * for an unknown service (whose name comes from the request).
   */
  onQuarantined(reason: QuarantineReason, service: string): void
  onDropped(cause: QuarantineDropCause, count: number): void
  onStats(stats: QuarantineStats): void
}

/**
 * What one kept request counts toward QUARANTINE_MAX_BYTES: its body, the header values and path kept with
 * it, and `overhead` for the row itself, so that a flood of empty bodies with long headers is bounded too.
 */
export function requestBytes(request: RefusedRequest, overhead: number): number {
  let bytes = overhead + request.body.length
  // As the stores keep text: UTF-8, where a header's byte above 0x7f (Node reads headers as latin1) takes two.
  const { path, sourceAddress, service, signature, contentType, userAgent } = request
  for (const text of [path, sourceAddress, service, signature, contentType, userAgent]) {
    bytes += text === null ? 0 : Buffer.byteLength(text)
  }
  return bytes
}
