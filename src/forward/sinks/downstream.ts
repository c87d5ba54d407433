import type { Sink, SinkKind } from '../../core/sink.js'

/** What every downstream's adapter may be given beside its URL. */
export interface CreateSinkOptions {
  /** Decoded FORWARD_SIGNING_SECRET (see parseSigningSecret); only the HTTP downstream signs. */
  readonly signingSecret?: Buffer | undefined
  /** Bound on one downstream round trip (request, confirm or ack); 10 s by default. */
  readonly timeoutMs?: number | undefined
}

/**
 * One row of the downstream table (sink-table.ts): the URL schemes it answers to, its URL parser and its
 * adapter's factory. Each downstream is a folder beside this file that exports one of these. The factory
 * loads its client library (ioredis, amqplib, the NATS client) only when called, so a relay pays in memory
 * and start-up time for the one downstream it is configured with, not for all of them.
 */
export interface Downstream<Target extends { readonly kind: SinkKind; readonly redacted: string }> {
  readonly kind: Target['kind']
  /** URL protocols with their colon, as `URL.protocol` gives them (`https:`). */
  readonly schemes: readonly string[]
  /** Validates the URL; throws an Error that never repeats a password. */
  parse(url: URL): Target
  create(target: Target, options: CreateSinkOptions): Promise<Sink>
}
