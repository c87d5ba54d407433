import type { RelayEvent } from './event.js'

/** What the downstream answered to one event of a batch, kept with the attempt. */
export interface SinkAnswer {
  /** The HTTP status. */
  readonly status?: number
  /** The start of the answer, one printable line, credentials masked (an HTTP body, a Redis entry id). */
  readonly text?: string
  /** How long this event's own request took (ms), for a downstream that sends a batch one event at a time. */
  readonly durationMs?: number
}

export interface SendResult {
  /** How many events, from the start of the batch, the downstream confirmed. */
  readonly delivered: number
  /** Why the event at index `delivered` failed; absent when the whole batch was delivered. */
  readonly error?: Error
  /**
   * The downstream refused the event at index `delivered` in a way that retrying cannot change (HTTP 400,
   * 413, ...): the forwarder dead-letters that one event and moves on instead of backing off.
   */
  readonly permanent?: boolean
  /**
   * The answers, in the batch's order, as far as the downstream answered: the confirmed prefix, then the
   * event that failed. Absent when the downstream has nothing to say beyond its confirmation.
   */
  readonly answers?: readonly SinkAnswer[]
}

/** The downstream kinds, by FORWARD_URL scheme. */
export type SinkKind = 'http' | 'redis' | 'amqp' | 'nats'

/**
 * A downstream. `send` delivers a batch in order and reports the confirmed prefix; it never rejects for a
 * delivery failure, so the forwarder can mark the prefix delivered and retry from the first failure.
 */
export interface Sink {
  readonly kind: SinkKind
  /** The URL with any password removed, safe for logs and metrics labels. */
  readonly target: string
  /** `signal` aborts an attempt in flight (shutdown); the result then reports what was confirmed before. */
  send(events: readonly RelayEvent[], signal?: AbortSignal): Promise<SendResult>
  /**
   * A start-up readiness probe: a warning saying why the downstream will not take events yet (the AMQP
   * exchange missing, no JetStream stream for the subject, Redis unreachable, nothing listening at the HTTP
   * target), or undefined when it looks ready. Sends no event; never rejects; settles within a few seconds.
   */
  check?(): Promise<string | undefined>
  close(): Promise<void>
}

/** How one downstream's forwarding is doing, for `/readyz`, metrics, logs and the console. */
export interface DownstreamStatus {
  readonly kind: SinkKind
  readonly target: string
  /** The services it forwards; null for every service without a downstream of its own. */
  readonly services: readonly string[] | null
  /** False while the forwarder cannot make progress (the downstream or the store failing). */
  readonly up: boolean
  /** When an event was last delivered or dead-lettered (ms), or the forwarder last found nothing to do. */
  readonly lastProgressAt: number | null
  readonly lastError: string | null
}
