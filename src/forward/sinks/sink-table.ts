import type { Sink } from '../../core/sink.js'
import { amqpDownstream } from './amqp/amqp-downstream.js'
import type { CreateSinkOptions, Downstream } from './downstream.js'
import { httpDownstream } from './http/http-downstream.js'
import { natsDownstream } from './nats/nats-downstream.js'
import { redisDownstream } from './redis/redis-downstream.js'

/** Every downstream the relay forwards to: adding one is a folder and a row here. */
const DOWNSTREAMS = [httpDownstream, redisDownstream, amqpDownstream, natsDownstream] as const

/** A validated FORWARD_URL, one shape per downstream. `redacted` is safe for logs and errors. */
export type ForwardTarget = ReturnType<(typeof DOWNSTREAMS)[number]['parse']>

type AnyDownstream = Downstream<ForwardTarget>

const BY_SCHEME: ReadonlyMap<string, AnyDownstream> = new Map(
  DOWNSTREAMS.flatMap((row) => row.schemes.map((scheme) => [scheme, row as unknown as AnyDownstream])),
)

/** The row for a URL protocol (`redis:`), or undefined when no downstream takes it. */
export function downstreamForScheme(protocol: string): AnyDownstream | undefined {
  return BY_SCHEME.get(protocol)
}

/** The schemes FORWARD_URL accepts, without their colon, for error messages. */
export const FORWARD_SCHEMES: readonly string[] = DOWNSTREAMS.flatMap((row) =>
  row.schemes.map((scheme) => scheme.slice(0, -1)),
)

/**
 * The downstream adapter for a parsed FORWARD_URL, its client library loaded now. Brokers connect lazily or
 * in the background.
 */
export function createSink(target: ForwardTarget, options: CreateSinkOptions = {}): Promise<Sink> {
  // A target only comes from its own row's parser, so the row found by its kind takes it.
  const row = DOWNSTREAMS.find((candidate) => candidate.kind === target.kind) as unknown as AnyDownstream
  return row.create(target, options)
}
