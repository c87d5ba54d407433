import { type ErrorListener, type EventHandler, handleDelivery } from './handle-delivery.js'

/** What the helper needs of a JetStream message (`JsMsg` of @nats-io/jetstream). */
export interface JetStreamMessage {
  readonly data: Uint8Array
  readonly headers?: { get(name: string): string } | undefined
  ack(): void
  /** Acknowledges and waits for the server to confirm it. */
  ackAck?(): Promise<boolean>
  nak(millis?: number): void
}

/** What the helper needs of a durable consumer (`js.consumers.get(stream, durableName)`). */
export interface JetStreamConsumer {
  consume(): Promise<AsyncIterable<JetStreamMessage> & { stop(): unknown }>
}

export interface JetStreamOptions {
  /** A durable consumer with explicit acks: what is not acknowledged within its `ack_wait` comes again. */
  readonly consumer: JetStreamConsumer
  readonly handler: EventHandler
  readonly onError?: ErrorListener
  /** How long a message whose handler failed waits before it comes again; 5 s by default. */
  readonly retryDelayMs?: number
  readonly signal?: AbortSignal
}

/**
 * At-least-once consumption of the relay's JetStream subject through a durable consumer: each message is
 * acknowledged (and the acknowledgement confirmed) only once the handler resolved; a failed handler gets a
 * delayed redelivery, a crash one after the consumer's `ack_wait`. Runs until `signal` aborts.
 */
export async function consumeJetStream(options: JetStreamOptions): Promise<void> {
  const messages = await options.consumer.consume()
  const stop = () => messages.stop()
  options.signal?.addEventListener('abort', stop, { once: true })
  try {
    for await (const m of messages) {
      const metadata = { get: (name: string) => m.headers?.get(name) }
      if (await handleDelivery(m.data, metadata, options.handler, options.onError)) {
        if (m.ackAck !== undefined) await m.ackAck()
        else m.ack()
      } else m.nak(options.retryDelayMs ?? 5000)
      if (options.signal?.aborted) break
    }
  } finally {
    options.signal?.removeEventListener('abort', stop)
  }
}
