import type { Downstream } from '../downstream.js'
import { redactUrl, requiredParam, withoutParams } from '../target-url.js'

/** `amqp(s)://...?exchange=NAME[&routingKey=KEY]`. */
export interface AmqpTarget {
  readonly kind: 'amqp'
  /** The connection URL without `exchange`/`routingKey`, keeping amqplib's own (frameMax, heartbeat...). */
  readonly url: string
  readonly exchange: string
  /** Fixed routing key; null means `tylt.<service>` per event. */
  readonly routingKey: string | null
  readonly redacted: string
}

function parseAmqpUrl(url: URL): AmqpTarget {
  const exchange = requiredParam(url, 'exchange', 'amqp://127.0.0.1:5672?exchange=tylt')
  const routingKey = url.searchParams.get('routingKey')
  return {
    kind: 'amqp',
    url: withoutParams(url, ['exchange', 'routingKey']),
    exchange,
    routingKey: routingKey === null || routingKey === '' ? null : routingKey,
    redacted: redactUrl(url),
  }
}

export const amqpDownstream: Downstream<AmqpTarget> = {
  kind: 'amqp',
  schemes: ['amqp:', 'amqps:'],
  parse: parseAmqpUrl,
  create: async ({ url, exchange, routingKey, redacted }, { timeoutMs }) => {
    const { AmqpSink } = await import('./amqp-sink.js')
    return new AmqpSink({ url, exchange, routingKey, redacted, timeoutMs })
  },
}
