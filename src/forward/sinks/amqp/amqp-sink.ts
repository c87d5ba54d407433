import { type ChannelModel, type ConfirmChannel, connect } from 'amqplib'
import type { RelayEvent } from '../../../core/event.js'
import type { SendResult } from '../../../core/sink.js'
import { contentTypeOf } from '../../content-type.js'
import { metadataHeaders } from '../../metadata-headers.js'
import { SerialSink } from '../serial-sink.js'
import { confirmedPrefix, type Outcome, settleWithin } from '../settle-within.js'

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

/** One open connection with its confirm channel, and the ids the broker returned as unroutable. */
interface Link {
  readonly model: ChannelModel
  readonly channel: ConfirmChannel
  readonly returned: Set<string>
}

/** Publishes persistent messages on a confirm channel; a broker ack of a routed message is a delivery. */
export class AmqpSink extends SerialSink<Link> {
  readonly kind = 'amqp'
  readonly #options: AmqpSinkOptions

  constructor(options: AmqpSinkOptions) {
    super(options.redacted, options.timeoutMs)
    this.#options = options
  }

  protected async publish(link: Link, events: readonly RelayEvent[]): Promise<SendResult> {
    const { outcomes, timedOut } = await settleWithin(
      events.map((event) => this.#publish(link, event)),
      this.timeoutMs,
      `RabbitMQ did not confirm within ${this.timeoutMs} ms`,
    )
    // A missing confirm leaves the channel in an unknown state (blocked, half-closed): start afresh.
    if (timedOut) this.#drop(link)
    return confirmedPrefix(outcomes)
  }

  /** Resolves with null once confirmed and routed, or with the reason it was not. */
  #publish(link: Link, event: RelayEvent): Promise<Outcome> {
    const routingKey = this.#options.routingKey ?? `tylt.${event.service}`
    return new Promise((resolve) => {
      const onConfirm = (err: unknown): void => {
        if (err) resolve(new Error(`RabbitMQ did not accept the message: ${describe(err)}`))
        // RabbitMQ sends basic.return before the ack of the same message, so the id is already there.
        else if (link.returned.delete(event.id)) {
          const where = `exchange "${this.#options.exchange}", routing key "${routingKey}"`
          resolve(new Error(`unroutable: no queue bound for ${where}`))
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
        resolve(new Error(`RabbitMQ publish failed: ${describe(err)}`, { cause: err }))
      }
    })
  }

  protected closeLink(link: Link): Promise<void> {
    return link.model.close()
  }

  protected async connect(): Promise<Link> {
    const { url, exchange, connectionName } = this.#options
    const model = await connect(url, {
      timeout: Math.min(this.timeoutMs, 5_000),
      clientProperties: { connection_name: connectionName ?? 'tylt-relay' },
    }).catch((err: unknown) => {
      throw new Error(`cannot connect to RabbitMQ: ${describe(err)}`, { cause: err })
    })
    // Without 'error' listeners a broker-side close would throw from the EventEmitter and crash the process.
    model.on('error', () => undefined)
    const channel = await model.createConfirmChannel().catch((err: unknown) => {
      model.close().catch(() => undefined)
      throw new Error(`cannot open a RabbitMQ channel: ${describe(err)}`, { cause: err })
    })
    const link: Link = { model, channel, returned: new Set() }
    channel.on('error', () => undefined)
    model.on('close', () => this.forget(link))
    channel.on('close', () => this.#drop(link))
    channel.on('return', (message: { properties: { messageId?: unknown } }) => {
      if (typeof message.properties.messageId === 'string') link.returned.add(message.properties.messageId)
    })
    try {
      await channel.checkExchange(exchange)
    } catch (err) {
      this.#drop(link)
      if ((err as { code?: unknown }).code !== 404) throw err
      const hint = 'declare it and bind a queue before forwarding'
      throw new Error(`RabbitMQ exchange "${exchange}" does not exist; ${hint}`, { cause: err })
    }
    return link
  }

  /** Forgets the link and closes its connection; the next send connects again. */
  #drop(link: Link): void {
    this.forget(link)
    link.model.close().catch(() => undefined)
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
