import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { parseForwardUrl } from '../../../src/forward/parse-forward-url.js'
import { createSink } from '../../../src/forward/sinks/create-sink.js'
import { relayEvent } from '../../helpers/index.js'

describe('createSink', () => {
  it.each([
    ['https://user:pw@hooks.example.com/tylt', 'http', 'https://user:***@hooks.example.com/tylt'],
    ['redis://:pw@127.0.0.1:6379?stream=s', 'redis', 'redis://:***@127.0.0.1:6379?stream=s'],
    ['amqp://guest:pw@127.0.0.1:5672?exchange=x', 'amqp', 'amqp://guest:***@127.0.0.1:5672?exchange=x'],
    ['nats://user:pw@127.0.0.1:4222?subject=a.b', 'nats', 'nats://user:***@127.0.0.1:4222?subject=a.b'],
  ])('builds the %s adapter with a password-free target', async (url, kind, target) => {
    const sink = await createSink(parseForwardUrl(url), { timeoutMs: 1_000 })
    onTestFinished(() => sink.close())
    expect(sink.kind).toBe(kind)
    expect(sink.target).toBe(target)
    expect(sink.target).not.toContain(':pw@')
  })

  it('hands the timeout to the adapter', async () => {
    // A server that accepts and never answers: only the timeout can end the attempt.
    const silent = createServer(() => undefined)
    silent.listen(0, '127.0.0.1')
    await once(silent, 'listening')
    onTestFinished(() => {
      silent.close()
      silent.closeAllConnections()
    })
    const { port } = silent.address() as AddressInfo
    const sink = await createSink(parseForwardUrl(`http://127.0.0.1:${port}/`), { timeoutMs: 200 })
    const started = Date.now()
    const result = await sink.send([
      relayEvent({
        id: 'e',
        service: 's',
        acceptedAt: 0,
        signature: 'x',
        body: Buffer.from('{}'),
      }),
    ])
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(result.delivered).toBe(0)
    expect(result.error?.message).toMatch(/within 200 ms/)
  })
})
