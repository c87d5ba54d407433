import { type ErrorListener, type EventHandler, handleDelivery } from './handle-delivery.js'

/** What the helper needs of an amqplib message. */
export interface AmqpMessage {
  readonly content: Uint8Array
  readonly properties: { readonly headers?: Readonly<Record<string, unknown>> | undefined }
}

/** What the helper needs of an amqplib channel (a `ConfirmChannel` works too). */
export interface AmqpChannel {
  prefetch(count: number): Promise<unknown>
  consume(
    queue: string,
    onMessage: (message: AmqpMessage | null) => void,
    options: { noAck: false },
  ): Promise<{ consumerTag: string }>
  ack(message: AmqpMessage): void
  nack(message: AmqpMessage, allUpTo?: boolean, requeue?: boolean): void
  cancel(consumerTag: string): Promise<unknown>
}

export interface RabbitMqOptions {
  readonly channel: AmqpChannel
  /** A durable queue bound to the relay's exchange. */
  readonly queue: string
  readonly handler: EventHandler
  readonly onError?: ErrorListener
  /** Messages in the handler's hands at once; 10 by default. */
  readonly prefetch?: number
  /** How long a message whose handler failed is held before it is requeued; 5 s by default. */
  readonly retryDelayMs?: number
}

const noop = () => undefined

/** An ack on a channel that closed meanwhile throws; the broker then redelivers the message anyway. */
function settle(action: () => void): void {
  try {
    action()
  } catch {}
}

/**
 * At-least-once consumption of a RabbitMQ queue with manual acks: each message is acked only once the
 * handler resolved. What a crashed process held goes back to the queue when its connection drops; a failed
 * handler's message is requeued after `retryDelayMs`. Resolves with a function that stops consuming.
 */
export async function consumeRabbitMq(options: RabbitMqOptions): Promise<() => Promise<void>> {
  const { channel, handler, onError } = options
  await channel.prefetch(options.prefetch ?? 10)
  const { consumerTag } = await channel.consume(
    options.queue,
    (message) => {
      if (message === null) return // the queue was deleted or the consumer cancelled by the server
      handleDelivery(message.content, message.properties.headers ?? {}, handler, onError).then((ok) => {
        if (ok) settle(() => channel.ack(message))
        else
          setTimeout(
            () => settle(() => channel.nack(message, false, true)),
            options.retryDelayMs ?? 5000,
          ).unref()
      }, noop)
    },
    { noAck: false },
  )
  return async () => {
    await channel.cancel(consumerTag)
  }
}
