import { type ChannelModel, type ConfirmChannel, connect } from 'amqplib'
import { deliveryError, systemCode } from '../delivery-error.js'

/** One open connection with its confirm channel, and what the broker said on it. */
export interface AmqpLink {
  readonly model: ChannelModel
  readonly channel: ConfirmChannel
  /** Ids of messages the broker returned as unroutable, until their confirm is handled. */
  readonly returned: Set<string>
  /** Why the broker closed the channel, once it has (`404 (NOT-FOUND) ... no exchange`). */
  closeReason: string | undefined
  /** RabbitMQ's `max_message_size`, once a message over it has closed the channel. */
  maxMessageSize: number | undefined
  /** The connection closed (the broker went away, or the relay dropped the link). */
  lost: boolean
}

export interface AmqpLinkOptions {
  readonly url: string
  readonly exchange: string
  readonly timeoutMs: number
  readonly connectionName: string
  /** Told when the link can no longer be used (connection or channel closed). */
  readonly onGone: (link: AmqpLink) => void
}

/** RabbitMQ's words when a message is over `max_message_size` (it then closes the channel, 406). */
const OVER_MAX_SIZE = /larger than configured max size (\d+)/

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** Connects, opens a confirm channel and makes sure the exchange exists. */
export async function openAmqpLink(options: AmqpLinkOptions): Promise<AmqpLink> {
  const { url, exchange, timeoutMs, connectionName, onGone } = options
  const model = await connect(url, {
    timeout: Math.min(timeoutMs, 5_000),
    clientProperties: { connection_name: connectionName },
  }).catch((err: unknown) => {
    // Credentials or a virtual host refused: the broker said no; anything else is the network's code.
    throw deliveryError(
      systemCode(err) ?? 'REFUSED_BY_BROKER',
      `cannot connect to RabbitMQ: ${describe(err)}`,
      err,
    )
  })
  // Without 'error' listeners a broker-side close would throw from the EventEmitter and crash the process.
  model.on('error', () => undefined)
  const channel = await model.createConfirmChannel().catch((err: unknown) => {
    model.close().catch(() => undefined)
    throw deliveryError('REFUSED_BY_BROKER', `cannot open a RabbitMQ channel: ${describe(err)}`, err)
  })
  const link: AmqpLink = {
    model,
    channel,
    returned: new Set(),
    closeReason: undefined,
    maxMessageSize: undefined,
    lost: false,
  }
  channel.on('error', (err: unknown) => {
    link.closeReason = describe(err)
    const limit = OVER_MAX_SIZE.exec(link.closeReason)?.[1]
    if (limit !== undefined) link.maxMessageSize = Number(limit)
  })
  model.on('close', () => {
    link.lost = true
    onGone(link)
  })
  channel.on('close', () => onGone(link))
  channel.on('return', (message: { properties: { messageId?: unknown } }) => {
    if (typeof message.properties.messageId === 'string') link.returned.add(message.properties.messageId)
  })
  try {
    await channel.checkExchange(exchange)
  } catch (err) {
    onGone(link)
    if ((err as { code?: unknown }).code !== 404) throw err
    const hint = 'declare it and bind a queue before forwarding'
    throw deliveryError('REFUSED_BY_BROKER', `RabbitMQ exchange "${exchange}" does not exist; ${hint}`, err)
  }
  return link
}
