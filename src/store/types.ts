import type { OutboundEvent } from '../forward/types.js'

/** An event accepted by the webhook route, about to be made durable. */
export type NewEvent = OutboundEvent

export type EventState = 'pending' | 'delivered' | 'dead'
export const EVENT_STATES: readonly EventState[] = ['pending', 'delivered', 'dead']

export interface StoredEvent extends OutboundEvent {
  /** Acceptance order; delivery follows it. */
  readonly seq: number
  readonly state: EventState
  readonly attempts: number
  readonly lastError: string | null
  readonly lastAttemptAt: number | null
  readonly deliveredAt: number | null
  /** When the retry clock started: acceptance, or the last replay. RETRY_MAX_AGE counts from here. */
  readonly retrySince: number
}

export interface StoreStats {
  readonly pending: number
  readonly dead: number
  /** Acceptance time (ms) of the oldest pending event; null when nothing is pending. */
  readonly oldestPendingAt: number | null
}

export interface ListQuery {
  readonly state?: EventState | undefined
  readonly limit: number
}

/** The durable store as the running relay sees it: every call may go to another thread. */
export interface EventStore {
  /** Resolves once the event is committed to disk (fsync): true when new, false for a duplicate. */
  append(event: NewEvent): Promise<boolean>
  /** The oldest pending events, in acceptance order. */
  pending(limit: number): Promise<StoredEvent[]>
  markDelivered(seqs: readonly number[], at: number): Promise<void>
  recordFailure(seq: number, at: number, error: string): Promise<void>
  /** Turns pending events whose retry clock started before `cutoff` into dead letters; returns how many. */
  expire(cutoff: number, error: string): Promise<number>
  /** Deletes delivered events accepted before `cutoff`; their ids may then be accepted again. */
  prune(cutoff: number): Promise<number>
  stats(): Promise<StoreStats>
  /** Proves the store still accepts writes. */
  probe(): Promise<void>
  close(): Promise<void>
}
