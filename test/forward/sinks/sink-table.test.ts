import { describe, expect, it } from 'vitest'
import { parseForwardUrl } from '../../../src/forward/parse-forward-url.js'
import { downstreamForScheme, FORWARD_SCHEMES } from '../../../src/forward/sinks/sink-table.js'

describe('the downstream table', () => {
  it('has one row per scheme, and each row parses its own URLs into its own kind', () => {
    expect(new Set(FORWARD_SCHEMES).size).toBe(FORWARD_SCHEMES.length)
    expect([...FORWARD_SCHEMES].sort()).toEqual(['amqp', 'amqps', 'http', 'https', 'nats', 'redis', 'rediss'])
    const examples: Record<string, string> = {
      http: 'http://127.0.0.1/x',
      https: 'https://hooks.example.com/x',
      redis: 'redis://127.0.0.1?stream=s',
      rediss: 'rediss://cache?stream=s',
      amqp: 'amqp://mq?exchange=x',
      amqps: 'amqps://mq?exchange=x',
      nats: 'nats://127.0.0.1?subject=a.b',
    }
    for (const scheme of FORWARD_SCHEMES) {
      const row = downstreamForScheme(`${scheme}:`)
      expect(row, scheme).toBeDefined()
      expect(parseForwardUrl(examples[scheme]!).kind).toBe(row?.kind)
    }
  })

  it('refuses a scheme no row takes, naming the ones it would', () => {
    expect(downstreamForScheme('kafka:')).toBeUndefined()
    expect(() => parseForwardUrl('kafka://broker:9092?topic=t')).toThrow(
      'FORWARD_URL scheme "kafka" is not supported (use http, https, redis, rediss, amqp, amqps or nats)',
    )
  })
})
