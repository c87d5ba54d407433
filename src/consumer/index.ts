/**
 * `tylt-relay/consumer`: what an application that consumes the relay's deliveries needs (docs/consumers.md).
 * No dependency beyond Node: the broker clients are the application's own, passed in.
 */

export type { ErrorListener, EventHandler } from './handle-delivery.js'
export { idempotencyKey, type KeyParts } from './idempotency-key.js'
export {
  consumeJetStream,
  type JetStreamConsumer,
  type JetStreamMessage,
  type JetStreamOptions,
} from './jetstream-consumer.js'
export { type Outcome, outcomeOf } from './outcome.js'
export { parseTyltEvent } from './parse-tylt-event.js'
export {
  type AmqpChannel,
  type AmqpMessage,
  consumeRabbitMq,
  type RabbitMqOptions,
} from './rabbitmq-consumer.js'
export type { MetadataSource } from './read-metadata.js'
export { consumeRedisStream, type RedisCommands, type RedisStreamOptions } from './redis-stream-consumer.js'
export type * from './tylt-event.js'
export {
  DELIVERY_TOLERANCE_SECONDS,
  type DeliveryCheck,
  type VerifyOptions,
  verifyDelivery,
} from './verify-delivery.js'
