import type { RelayEvent } from '../../../core/event.js'
import type { SendResult } from '../../../core/sink.js'
import { contentTypeOf } from '../../content-type.js'
import { metadataHeaders } from '../../metadata-headers.js'
import { deliveryError } from '../delivery-error.js'
import { Refusal } from '../refusal.js'
import { abortedError, SerialSink } from '../serial-sink.js'
import { confirmedPrefix, type Outcome, settleWithin } from '../settle-within.js'
import { type AmqpLink, describe, openAmqpLink } from './amqp-link.js'

export interface AmqpSinkOptions {
  readonly url: string
  readonly exchange: string
  /** Fixed routing key; null routes each event by `tylt.<service>`. */
  readonly routingKey: string | null
  /** Safe for logs (no password). */
  readonly redacted: string
  readonly timeoutMs?: number | undefined
  /** Shown by RabbitMQ as the connection's client-provided name. */
  readonly connectionName?: string
}

/**
 * Publishes persistent messages on a confirm channel; a broker ack of a routed message is a delivery.
 * Only a message over the broker's `max_message_size` is refused for good: a missing exchange, an
 * unroutable message (no queue bound) or a closed channel are the broker's configuration or state, and
 * the same event goes through once the operator fixes it (docs/downstreams.md).
 */
export class AmqpSink extends SerialSink<AmqpLink> {
  readonly kind = 'amqp'
  readonly #options: AmqpSinkOptions

  constructor(options: AmqpSinkOptions) {
    super(options.redacted, options.timeoutMs)
    this.#options = options
  }

  protected async publish(
    link: AmqpLink,
    events: readonly RelayEvent[],
    signal: AbortSignal | undefined,
  ): Promise<SendResult> {
    const { outcomes, timedOut } = await settleWithin(
      events.map((event) => this.#publish(link, event)),
      this.timeoutMs,
      `RabbitMQ did not confirm within ${this.timeoutMs} ms`,
      signal,
      () => abortedError(signal!),
    )
    // A missing confirm leaves the channel in an unknown state (blocked, half-closed): start afresh.
    if (timedOut) this.#drop(link)
    return confirmedPrefix(outcomes)
  }

  protected readiness(): Promise<string | undefined> {
    // The exchange was checked when the link opened. Whether a routing key reaches a queue cannot be
    // asked without publishing, so an unroutable key shows at the first delivery (as an outage).
    return Promise.resolve(undefined)
  }

  protected closeLink(link: AmqpLink): Promise<void> {
    return link.model.close()
  }

  protected connect(): Promise<AmqpLink> {
    const { url, exchange, connectionName } = this.#options
    return openAmqpLink({
      url,
      exchange,
      timeoutMs: this.timeoutMs,
      connectionName: connectionName ?? 'tylt-relay',
      onGone: (link) => this.#drop(link),
    })
  }

  /** Resolves with null once confirmed and routed, or with the reason it was not. */
  #publish(link: AmqpLink, event: RelayEvent): Promise<Outcome> {
    const routingKey = this.#options.routingKey ?? `tylt.${event.service}`
    return new Promise((resolve) => {
      const onConfirm = (err: unknown): void => {
        if (err) resolve(this.#notAccepted(link, event, err))
        // RabbitMQ sends basic.return before the ack of the same message, so the id is already there.
        else if (link.returned.delete(event.id)) {
          const where = `exchange "${this.#options.exchange}", routing key "${routingKey}"`
          resolve(deliveryError('UNROUTABLE', `unroutable: no queue bound for ${where}`))
        } else resolve(null)
      }
      try {
        link.channel.publish(
          this.#options.exchange,
          routingKey,
          event.body,
          {
            persistent: true,
            // Without mandatory, a message no queue is bound for is acked and silently dropped.
            mandatory: true,
            messageId: event.id,
            timestamp: Math.floor(event.acceptedAt / 1000),
            contentType: contentTypeOf(event.body),
            headers: metadataHeaders(event),
          },
          onConfirm,
        )
      } catch (err) {
        // amqplib throws synchronously when the channel is already closed.
        this.#drop(link)
        resolve(deliveryError('NOT_CONNECTED', `RabbitMQ publish failed: ${describe(err)}`, err))
      }
    })
  }

  /**
   * A nack or a closed channel. RabbitMQ closes the channel for a message over its `max_message_size`, and
   * every confirm still due fails with it: only the message over the limit is refused for good, the others
   * are sent again.
   */
  #notAccepted(link: AmqpLink, event: RelayEvent, err: unknown): Error {
    const limit = link.maxMessageSize
    if (limit !== undefined && event.body.length > limit) {
      return new Refusal(
        `RabbitMQ refused the message: its ${event.body.length} bytes are over the broker's max_message_size (${limit})`,
      )
    }
    // A channel the broker closed, or a nack, is the broker saying no; a connection lost is not.
    const code = link.closeReason === undefined && link.lost ? 'NOT_CONNECTED' : 'REFUSED_BY_BROKER'
    return deliveryError(code, `RabbitMQ did not accept the message: ${link.closeReason ?? describe(err)}`)
  }

  /** Forgets the link and closes its connection; the next send connects again. */
  #drop(link: AmqpLink): void {
    this.forget(link)
    link.model.close().catch(() => undefined)
  }
}
