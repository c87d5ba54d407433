/** One accepted event on its way to the downstream. */
export interface OutboundEvent {
  /** Event id, derived from (service, verified bytes); sent as `webhook-id`. */
  readonly id: string
  readonly service: string
  /** Acceptance time, milliseconds since the epoch; `webhook-timestamp` is this in whole seconds. */
  readonly acceptedAt: number
  /** Tylt's original `X-TLP-SIGNATURE` value, trimmed. */
  readonly signature: string
  readonly orderId: string | null
  readonly merchantOrderId: string | null
  readonly status: string | null
  /** Exactly the bytes the signature matched. */
  readonly body: Buffer
}

export interface SendResult {
  /** How many events, from the start of the batch, the downstream confirmed. */
  readonly delivered: number
  /** Why the event at index `delivered` failed; absent when the whole batch was delivered. */
  readonly error?: Error
}

/**
 * A downstream. `send` delivers a batch in order and reports the confirmed prefix; it never rejects for a
 * delivery failure, so the forwarder can mark the prefix delivered and retry from the first failure.
 */
export interface Sink {
  readonly kind: 'http' | 'redis' | 'amqp' | 'nats'
  /** The URL with any password removed, safe for logs and metrics labels. */
  readonly target: string
  send(events: readonly OutboundEvent[]): Promise<SendResult>
  close(): Promise<void>
}
