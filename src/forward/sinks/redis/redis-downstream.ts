import type { Downstream } from '../downstream.js'
import { redactUrl, requiredParam, withoutParams } from '../target-url.js'

/** `redis(s)://...?stream=NAME`. */
export interface RedisTarget {
  readonly kind: 'redis'
  /** The connection URL without the `stream` parameter, which ioredis would take for an option. */
  readonly url: string
  readonly stream: string
  readonly redacted: string
}

function parseRedisUrl(url: URL): RedisTarget {
  const stream = requiredParam(url, 'stream', 'redis://127.0.0.1:6379?stream=tylt-events')
  return { kind: 'redis', url: withoutParams(url, ['stream']), stream, redacted: redactUrl(url) }
}

export const redisDownstream: Downstream<RedisTarget> = {
  kind: 'redis',
  schemes: ['redis:', 'rediss:'],
  parse: parseRedisUrl,
  create: async ({ url, stream, redacted }, { timeoutMs }) => {
    const { RedisSink } = await import('./redis-sink.js')
    return new RedisSink({ url, stream, redacted, timeoutMs })
  },
}
