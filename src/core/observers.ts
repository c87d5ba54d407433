import type { QuarantineReason } from './quarantine-store.js'

/**
 * What each part of the relay tells the metrics, one small interface per part; `ops/metrics.ts` implements
 * them, and every part defaults to doing nothing. Labels stay bounded: a service is a configured name (or
 * `unknown`, `*`), never a name taken from a request.
 */

/** Outcome of one webhook request. */
export type Outcome =
  | 'accepted'
  | 'duplicate'
  | 'invalid_signature'
  | 'unknown_service'
  | 'too_large'
  | 'unavailable'
  | 'overloaded'
  | 'error'

/** Why a request on a webhook path was refused: a signature problem, a service not configured, a bad path. */
export type RefusalReason = QuarantineReason | 'bad_url'

/** Why a signature was refused. */
export type SignatureFailure = 'missing' | 'malformed' | 'mismatch'

/** The webhook route and its one line per request. */
export interface WebhookObserver {
  /** A request was answered, `ms` after it arrived. */
  onAnswered(service: string, outcome: Outcome, ms: number): void
  /** The answer refused it; `overLimit`: its source was past its failure budget. */
  onRefused(reason: RefusalReason, overLimit: boolean): void
  /** Its signature was refused. */
  onSignatureFailed(service: string, reason: SignatureFailure): void
  /** It verified with the first listed secret (`older`: another) over its raw bytes or the JSON fallback. */
  onVerified(service: string, slot: 'current' | 'older', bytes: 'raw' | 'json_fallback'): void
}

/** Requests admission dropped before they could be verified. */
export interface AdmissionObserver {
  /** A request was dropped unread: its sender had already closed the connection. */
  onAbandoned(): void
}

/** How a batch, or an event of it, came out of one attempt to forward it. */
export type ForwardOutcome = 'delivered' | 'failed' | 'refused' | 'dead'

/** One forwarder, bound to its downstream. */
export interface ForwarderObserver {
  /** One batch was handed to the downstream, taking `seconds`, whatever came of it. */
  onSent(seconds: number): void
  /** `count` events came to `outcome`. */
  onForwarded(outcome: ForwardOutcome, count: number): void
}

/** The event store. */
export interface StoreObserver {
  /** One commit made `events` appends durable (group commit). */
  onCommitted(events: number): void
}

export const NO_WEBHOOK_OBSERVER: WebhookObserver = {
  onAnswered() {},
  onRefused() {},
  onSignatureFailed() {},
  onVerified() {},
}
export const NO_ADMISSION_OBSERVER: AdmissionObserver = { onAbandoned() {} }
export const NO_FORWARDER_OBSERVER: ForwarderObserver = { onSent() {}, onForwarded() {} }
export const NO_STORE_OBSERVER: StoreObserver = { onCommitted() {} }
