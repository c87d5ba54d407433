import type { Sink } from '../../core/sink.js'
import type { ForwardTarget } from '../parse-forward-url.js'
import { AmqpSink } from './amqp-sink.js'
import { HttpSink } from './http-sink.js'
import { NatsSink } from './nats-sink.js'
import { RedisSink } from './redis-sink.js'

export interface CreateSinkOptions {
  /** Decoded FORWARD_SIGNING_SECRET (see parseSigningSecret); only the HTTP downstream signs. */
  readonly signingSecret?: Buffer | undefined
  /** Bound on one downstream round trip (request, confirm or ack); 10 s by default. */
  readonly timeoutMs?: number
}

/** The downstream adapter for a parsed FORWARD_URL. Brokers connect lazily or in the background. */
export function createSink(target: ForwardTarget, options: CreateSinkOptions = {}): Sink {
  const { timeoutMs } = options
  switch (target.kind) {
    case 'http':
      return new HttpSink(target.url, { signingSecret: options.signingSecret, timeoutMs })
    case 'redis':
      return new RedisSink({ ...target, timeoutMs })
    case 'amqp':
      return new AmqpSink({ ...target, timeoutMs })
    case 'nats':
      return new NatsSink({ ...target, timeoutMs })
  }
}
