import { describe, expect, it } from 'vitest'
import { parseForwardUrl, redactUrl } from '../../src/forward/parse-forward-url.js'

describe('parseForwardUrl', () => {
  it('keeps an http(s) URL whole, query included', () => {
    const target = parseForwardUrl('https://hooks.example.com/tylt?team=pay')
    expect(target.kind).toBe('http')
    if (target.kind !== 'http') return
    expect(target.url.href).toBe('https://hooks.example.com/tylt?team=pay')
    expect(parseForwardUrl('http://127.0.0.1:8080/x').kind).toBe('http')
  })

  it('takes the stream out of a redis URL and keeps the rest for the client', () => {
    const target = parseForwardUrl('rediss://user:s3cret@cache:6380/2?stream=tylt-events&family=6')
    expect(target).toEqual({
      kind: 'redis',
      url: 'rediss://user:s3cret@cache:6380/2?family=6',
      stream: 'tylt-events',
      redacted: 'rediss://user:***@cache:6380/2?stream=tylt-events&family=6',
    })
  })

  it('reads exchange and optional routing key of an amqp URL', () => {
    expect(parseForwardUrl('amqp://guest:guest@mq:5672/%2f?exchange=tylt&heartbeat=30')).toEqual({
      kind: 'amqp',
      url: 'amqp://guest:guest@mq:5672/%2f?heartbeat=30',
      exchange: 'tylt',
      routingKey: null,
      redacted: 'amqp://guest:***@mq:5672/%2f?exchange=tylt&heartbeat=30',
    })
    const fixed = parseForwardUrl('amqps://mq?exchange=tylt&routingKey=payments.in')
    expect(fixed.kind === 'amqp' && fixed.routingKey).toBe('payments.in')
  })

  it('splits nats credentials from the server address, user/password or token', () => {
    expect(parseForwardUrl('nats://app:pw@nats.local?subject=tylt.events')).toEqual({
      kind: 'nats',
      server: 'nats.local:4222',
      subject: 'tylt.events',
      user: 'app',
      pass: 'pw',
      redacted: 'nats://app:***@nats.local?subject=tylt.events',
    })
    const token = parseForwardUrl('nats://t0ken@127.0.0.1:4223?subject=a.b')
    expect(token).toMatchObject({
      server: '127.0.0.1:4223',
      token: 't0ken',
      redacted: expect.not.stringContaining('t0ken'),
    })
    expect(token).not.toHaveProperty('user')
  })

  it.each([
    ['redis://localhost:6379', /needs \?stream=/],
    ['redis://localhost:6379?stream=', /needs \?stream=/],
    ['amqp://localhost?routingKey=x', /needs \?exchange=/],
    ['nats://localhost:4222', /needs \?subject=/],
    ['nats://localhost:4222?subject=tylt.*', /not a valid NATS subject/],
    ['nats://localhost:4222?subject=a..b', /not a valid NATS subject/],
    ['kafka://broker:9092?topic=x', /scheme "kafka" is not supported/],
    ['ftp://example.com/x', /scheme "ftp" is not supported/],
    ['not a url', /not a valid URL/],
  ])('rejects %s', (raw, message) => {
    expect(() => parseForwardUrl(raw)).toThrow(message)
  })

  it('never puts a password in an error message', () => {
    const attempts = [
      'redis://:hunter2hunter2@localhost:6379',
      'amqp://u:hunter2hunter2@localhost',
      'nats://u:hunter2hunter2@localhost',
      'nats://hunter2hunter2@localhost',
      'sftp://u:hunter2hunter2@localhost',
      'http://u:hunter2hunter2@[bad',
    ]
    for (const raw of attempts) {
      let message = ''
      try {
        parseForwardUrl(raw)
      } catch (err) {
        message = (err as Error).message
      }
      expect(message).not.toBe('')
      expect(message).not.toContain('hunter2')
    }
  })
})

describe('redactUrl', () => {
  it('replaces only the password', () => {
    expect(redactUrl('https://user:pw@example.com/a?b=c')).toBe('https://user:***@example.com/a?b=c')
    expect(redactUrl(new URL('redis://localhost:6379'))).toBe('redis://localhost:6379')
  })
})
