/**
 * The event and the words every part of the relay uses for it. This folder is where the parts meet: it
 * imports nothing from the webhook route, the store adapters, the forwarder, the sinks or ops.
 */

/** The Tylt product family a body belongs to, read from its shape (docs/reference.md, section 4, `tylt-product`). */
export const PRODUCTS = [
  'cpg-pay-in',
  'cpg-payout',
  'upi',
  'pix',
  'eu-open-banking',
  'inr-payout',
  'unknown',
] as const
export type Product = (typeof PRODUCTS)[number]

/** Whether the body reports a final state of its payment; `unknown` wherever Tylt's pages disagree. */
export type Finality = 'true' | 'false' | 'unknown'

/** What the relay reads from a verified body. Best effort: null (or `unknown`) when absent. */
export interface EventMetadata {
  readonly orderId: string | null
  readonly merchantOrderId: string | null
  readonly status: string | null
  readonly product: Product
  readonly final: Finality
  /**
   * Until when the body says the order may still move (CPG `expiresAt`, a UPI or PIX trade event's
   * deadline), milliseconds since the epoch; null when it says nothing. Read once here, for the order ledger.
   */
  readonly deadline: number | null
}

/**
 * Where an event came from when it did not arrive as an accepted callback: accepted later from quarantine,
 * or Tylt's answer to reconcile's query (unsigned by Tylt: its `signature` is empty).
 */
export type Recovery = 'quarantine' | 'reconcile'
export const RECOVERIES: readonly Recovery[] = ['quarantine', 'reconcile']

/** One accepted event. */
export interface RelayEvent extends EventMetadata {
  /** Event id, derived from (service, verified bytes); sent as `webhook-id`. */
  readonly id: string
  readonly service: string
  /** Acceptance time, milliseconds since the epoch; `webhook-timestamp` is this in whole seconds. */
  readonly acceptedAt: number
  /** Tylt's original `X-TLP-SIGNATURE` value, trimmed. */
  readonly signature: string
  /** Exactly the bytes the signature matched. */
  readonly body: Buffer
  /** Set when the event was accepted later from quarantine; forwarded as `tylt-recovered`. */
  readonly recovered: Recovery | null
}

/**
 * `stored`: accepted while its service had no downstream; kept, and sent nowhere until `events replay` queues
 * it, so that configuring a downstream later never sends it by surprise. `pending`: waiting for its downstream.
 */
export type EventState = 'pending' | 'delivered' | 'dead' | 'stored'
export const EVENT_STATES: readonly EventState[] = ['pending', 'delivered', 'dead', 'stored']

/** Whether events of a service go to a downstream: appended `pending` when they do, `stored` when not. */
export type HasDownstream = (service: string) => boolean

export interface StoredEvent extends RelayEvent {
  /** Acceptance order; delivery follows it. */
  readonly seq: number
  readonly state: EventState
  readonly attempts: number
  readonly lastError: string | null
  readonly lastAttemptAt: number | null
  readonly deliveredAt: number | null
  /** The downstream (its safe target) that confirmed the event; null until delivered. */
  readonly deliveredTo: string | null
  /** When the retry clock started: acceptance, or the last replay. RETRY_MAX_AGE counts from here. */
  readonly retrySince: number
}

/** What one delivery attempt took and what the downstream said to it. */
export interface AttemptAnswer {
  /** How long the attempt took (ms); null when not measured (`dead`: retries ran out, nothing was sent). */
  readonly durationMs: number | null
  /** The HTTP status the downstream answered; null for a broker, or when no answer came. */
  readonly status: number | null
  /**
   * The start of the answer, one printable line with any credentials sent masked: an HTTP body, a Redis
   * entry id. Null when the downstream said nothing more than its status or ack.
   */
  readonly answer: string | null
}

/** An attempt that had no answer to keep (recorded by a caller that did not measure one). */
export const NO_ANSWER: AttemptAnswer = { durationMs: null, status: null, answer: null }

/**
 * One delivery attempt, as kept in an event's history (the store keeps the newest ATTEMPTS_KEPT per event).
 * `delivered`: the downstream confirmed it. `failed`: an outage, retried. `refused`: the downstream will
 * never take it. `dead`: retries ran out.
 */
export interface Attempt extends AttemptAnswer {
  readonly at: number
  readonly downstream: string
  readonly outcome: 'delivered' | 'failed' | 'refused' | 'dead'
  /** Why it did not deliver, `CODE: message`; null for `delivered`. */
  readonly error: string | null
}

/** Attempts an event's history keeps, successful ones included; older ones are dropped (the count in `attempts` is not). */
export const ATTEMPTS_KEPT = 20
