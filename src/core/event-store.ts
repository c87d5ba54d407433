import type { Attempt, AttemptAnswer, EventState, Recovery, RelayEvent, StoredEvent } from './event.js'

export interface StoreStats {
  readonly pending: number
  readonly dead: number
  /** Acceptance time (ms) of the oldest pending event; null when nothing is pending. */
  readonly oldestPendingAt: number | null
}

/** What the forwarder reads next: the oldest pending events, in acceptance order. */
export interface PendingQuery {
  /** At most this many events. */
  readonly limit: number
  /**
   * At most about this many body bytes: the batch stops before the event that would pass it, but always
   * holds at least one event, so a single large one still moves.
   */
  readonly maxBytes: number
  /** Only these services (a downstream per service); every service when absent. */
  readonly services?: readonly string[] | undefined
}

/** Filters of `events list` and the console; every field narrows, all are optional. Newest first. */
export interface ListQuery {
  readonly limit: number
  readonly state?: EventState | undefined
  readonly service?: string | undefined
  readonly product?: string | undefined
  /** The status as the body says it, without regard to case. */
  readonly status?: string | undefined
  /**
   * With `status`: `product:id` pairs that match too, the ids its label names in a numeric family
   * (`completed` names `upi:4`; statusIdsOf in src/event/finality-table.ts).
   */
  readonly statusIds?: readonly string[] | undefined
  /** The start of Tylt's order id or of the merchant's order id, without regard to case. */
  readonly order?: string | undefined
  /** Only events recovered this way (`tylt-recovered`). */
  readonly recovered?: Recovery | undefined
  /** Accepted at or after (ms). */
  readonly since?: number | undefined
  /** Accepted before (ms). */
  readonly until?: number | undefined
  /** Paging: only events older than this seq. */
  readonly beforeSeq?: number | undefined
}

/** Narrows `replayState`: only these services, only events accepted at or after `since` (ms). */
export interface ReplayScope {
  readonly services?: readonly string[] | undefined
  readonly since?: number | undefined
}

/**
 * The durable store: one port, an adapter per backend (SQLite in DATA_DIR, PostgreSQL). Everything the
 * webhook path, the forwarder, the command line, the ops endpoints and the console need.
 */
export interface EventStore {
  /**
   * Resolves once the event is durable (fsync, or a committed transaction): true when new, false for a
   * duplicate. A new event is `pending` when its service has a downstream, `stored` when not (the adapter's
   * HasDownstream option). An id stored as a dead letter is revived instead (in the state a new event takes, its retry clock restarted
   * from the new `acceptedAt`, its place in the line and its history kept) and counts as new: a re-send from
   * Tylt's dashboard is how an operator asks for it again.
   */
  append(event: RelayEvent): Promise<boolean>
  pending(query: PendingQuery): Promise<StoredEvent[]>
  /**
   * The downstream confirmed these events: each gets a `delivered` attempt in its history, with its answer
   * from `answers` (same order as `seqs`; none when absent), in the same write that marks the batch.
   */
  markDelivered(
    seqs: readonly number[],
    at: number,
    downstream: string,
    answers?: readonly AttemptAnswer[],
  ): Promise<void>
  /** An attempt failed and will be retried. */
  recordFailure(
    seq: number,
    at: number,
    downstream: string,
    error: string,
    answer?: AttemptAnswer,
  ): Promise<void>
  /** The downstream will never take this event: it becomes a dead letter now, the line moves on. */
  markRefused(
    seq: number,
    at: number,
    downstream: string,
    error: string,
    answer?: AttemptAnswer,
  ): Promise<void>
  /**
   * Turns pending events (of these services, or all) whose retry clock started before `cutoff` into dead
   * letters; returns how many.
   */
  expire(cutoff: number, downstream: string, error: string, services?: readonly string[]): Promise<number>
  /** Deletes delivered events accepted before `cutoff`; their ids may then be accepted again. */
  prune(cutoff: number): Promise<number>
  stats(): Promise<StoreStats>
  /** Proves the store still accepts writes. */
  probe(): Promise<void>
  list(query: ListQuery): Promise<StoredEvent[]>
  get(id: string): Promise<StoredEvent | undefined>
  /** The event's kept attempts (the newest ATTEMPTS_KEPT, successful ones included), oldest first. */
  attempts(id: string): Promise<Attempt[]>
  /**
   * Queues events for delivery again, restarting their retry clock. All or nothing: when an id is unknown,
   * nothing is queued and the unknown ids are returned.
   */
  replay(ids: readonly string[], now: number): Promise<{ queued: number; missing: string[] }>
  /** Queues every event in this state (within `scope`) again; returns how many. */
  replayState(state: EventState, now: number, scope?: ReplayScope): Promise<number>
  /** How many events are in this state: a count for the start's log line, not for every scrape. */
  count(state: EventState): Promise<number>
  close(): Promise<void>
}

/** The LIKE pattern (escape character `\`) of `ListQuery.order`: values starting with it, its `%`, `_`, `\` literal. */
export const likePrefix = (text: string): string => `${text.replace(/[\\%_]/g, '\\$&')}%`
