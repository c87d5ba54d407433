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
  /** Its source had sent a verified callback recently when it was refused (kept ahead of others). */
  readonly fromVerifiedSource: boolean
}

/** A kept request without its body; `bytes` is the body's length. */
export type QuarantineSummary = Omit<QuarantinedRequest, 'body'> & { readonly bytes: number }

/** What the quarantine holds; `bytes` as counted against QUARANTINE_MAX_BYTES (`requestBytes`). */
export interface QuarantineStats {
  readonly count: number
  readonly bytes: number
}

/** Where quarantined requests are kept; an adapter per backend, like the event store. */
export interface QuarantineStore {
  /** Keeps these requests; no fsync of its own (a crash may lose the last moments: docs/quarantine.md). */
  add(requests: readonly QuarantinedRequest[]): Promise<void>
  /** Newest first. */
  list(limit: number): Promise<QuarantineSummary[]>
  get(id: string): Promise<QuarantinedRequest | undefined>
  /** Removes these (or, with `'all'`, every) requests; returns how many were removed. */
  remove(ids: readonly string[] | 'all'): Promise<number>
  stats(): Promise<QuarantineStats>
  /**
   * Drops requests received before `cutoff`, then the oldest until at most `maxBytes` remain, counted as
   * `requestBytes` does; returns how many were dropped.
   */
  trim(maxBytes: number, cutoff: number): Promise<number>
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
  let bytes = overhead + request.body.length + request.path.length + request.sourceAddress.length
  for (const text of [request.service, request.signature, request.contentType, request.userAgent]) {
    bytes += text?.length ?? 0
  }
  return bytes
}
