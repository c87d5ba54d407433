import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { SourceTurns } from '../../src/http/source-turns.js'
import { buildTestApp, sign } from '../helpers/index.js'
import { freePort } from '../helpers/ports.js'

const OPTIONS = { trustMs: 60_000, addresses: 3 }

describe('SourceTurns', () => {
  it('trusts a source from its first verified request until one is refused, for trustMs at most', () => {
    let now = 1_000
    const turns = new SourceTurns(OPTIONS, () => now)
    expect(turns.trusted('198.51.100.7')).toBe(false)
    turns.verified('198.51.100.7')
    expect(turns.trusted('198.51.100.7')).toBe(true)
    // An IPv6 source is one /64, as the failure limiter counts it.
    turns.verified('2001:db8:1:2::1')
    expect(turns.trusted('2001:db8:1:2:ffff::9')).toBe(true)
    turns.refused('198.51.100.7')
    expect(turns.trusted('198.51.100.7')).toBe(false)
    turns.verified('198.51.100.7')
    now += OPTIONS.trustMs
    expect(turns.trusted('198.51.100.7')).toBe(false)
  })

  it('forgets the source verified least recently past `addresses`', () => {
    const turns = new SourceTurns(OPTIONS)
    for (const ip of ['192.0.2.1', '192.0.2.2', '192.0.2.3']) turns.verified(ip)
    turns.verified('192.0.2.1')
    turns.verified('192.0.2.4')
    expect(['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4'].map((ip) => turns.trusted(ip))).toEqual([
      true,
      false,
      true,
      true,
    ])
  })

  it('lets a trusted source in at once, and the others one per turn of the event loop, round robin', async () => {
    const turns = new SourceTurns(OPTIONS)
    turns.verified('192.0.2.9')
    const order: string[] = []
    const admit = (ip: string, name: string) => turns.admit(ip, () => order.push(name))
    admit('192.0.2.1', 'a1')
    admit('192.0.2.1', 'a2')
    admit('192.0.2.1', 'a3')
    admit('192.0.2.2', 'b1')
    admit('192.0.2.9', 'trusted')
    expect(order).toEqual(['trusted'])
    expect(turns.waiting).toBe(4)
    // Queued after the first turn was: it runs before the second, since each turn waits for the next loop.
    setImmediate(() => order.push('loop'))
    await new Promise<void>((resolve) => {
      const wait = () => (turns.waiting === 0 ? setImmediate(resolve) : setImmediate(wait))
      wait()
    })
    expect(order).toEqual(['trusted', 'a1', 'loop', 'b1', 'a2', 'a3'])
  })

  it('drops a request whose sender has gone by its turn and gives the turn to the next', async () => {
    let abandoned = 0
    const turns = new SourceTurns(OPTIONS, Date.now, () => abandoned++)
    const order: string[] = []
    const connections = new Map<string, { destroyed: boolean }>()
    const admit = (ip: string, name: string) => {
      const connection = { destroyed: false }
      connections.set(name, connection)
      turns.admit(ip, () => order.push(name), connection)
    }
    for (const name of ['a1', 'a2', 'a3']) admit('192.0.2.1', name)
    admit('192.0.2.2', 'b1')
    connections.get('a1')!.destroyed = true
    connections.get('a2')!.destroyed = true
    setImmediate(() => order.push('loop'))
    await new Promise<void>((resolve) => {
      const wait = () => (turns.waiting === 0 ? setImmediate(resolve) : setImmediate(wait))
      wait()
    })
    // a1's turn went to b1 at once (a1 gone); a2 gone too, so a3 had the next turn.
    expect(order).toEqual(['b1', 'loop', 'a3'])
    expect(abandoned).toBe(2)
  })
})

/** 20 services of 2 keys each: a forgery to `POST /webhooks` costs 40 HMACs. */
const MANY: Record<string, string> = {}
for (let i = 0; i < 20; i++) MANY[`TYLT_SECRET_SVC${i}`] = `svc-${i}-current-secret,svc-${i}-older-secret`

/** POSTs `body` to `path` over a connection of its own from `from`; resolves with the status. */
function post(
  port: number,
  from: string,
  body: string,
  signature: string,
  path = '/webhooks',
): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress: from })
    let answer = ''
    socket.setEncoding('latin1')
    socket.on('connect', () =>
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
          `X-TLP-SIGNATURE: ${signature}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `Connection: close\r\n\r\n${body}`,
      ),
    )
    socket.on('data', (chunk: string) => {
      answer += chunk
    })
    socket.on('error', reject)
    socket.on('close', () => resolve(Number(answer.slice(9, 12))))
  })
}

/** 32 forgeries pipelined on one connection from `from`, so they arrive together; counts their answers. */
function pipelined(port: number, from: string, count: number, body: string, signature: string) {
  const one =
    `POST /webhooks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
    `X-TLP-SIGNATURE: ${signature}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  const statuses: number[] = []
  const done = new Promise<number[]>((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress: from })
    let text = ''
    socket.setEncoding('latin1')
    socket.on('connect', () => socket.write(one.repeat(count)))
    socket.on('data', (chunk: string) => {
      text += chunk
      for (
        let at = text.indexOf('HTTP/1.1 ');
        at >= 0 && text.length >= at + 12;
        at = text.indexOf('HTTP/1.1 ')
      ) {
        statuses.push(Number(text.slice(at + 9, at + 12)))
        text = text.slice(at + 12)
      }
      if (statuses.length === count) socket.end()
    })
    socket.on('error', reject)
    socket.on('close', () => resolve(statuses))
  })
  return { statuses, done }
}

describe('requests from a trusted source go first', () => {
  it('answers a callback from a source that verified before, while forgeries that came before it from another wait their turns', async () => {
    const turns = new SourceTurns()
    const { app, stored } = await buildTestApp(MANY, undefined, { turns })
    const port = await freePort()
    await app.listen({ port, host: '127.0.0.1' })
    const genuine = (n: number) => JSON.stringify({ type: 'pay-in', data: { orderId: `o-${n}` } })
    const signed = (body: string) => sign('svc-19-older-secret', body)
    // Tylt's address, known from one callback that verified.
    expect(await post(port, '127.0.0.1', genuine(1), signed(genuine(1)))).toBe(200)
    expect(turns.trusted('127.0.0.1')).toBe(true)

    // Each against 40 keys, and the JSON fallback's parse and 40 more.
    const forged = JSON.stringify({ type: 'pay-in', data: { pad: 'x'.repeat(900) } }, null, 1)
    const flood = pipelined(port, '127.0.0.2', 32, forged, sign('forged', forged))
    // They arrive in one read: all of them are in before the first is let in.
    const until = Date.now() + 5_000
    while (turns.waiting === 0 && Date.now() < until) await new Promise((resolve) => setImmediate(resolve))
    expect(turns.waiting).toBeGreaterThanOrEqual(16)
    expect(await post(port, '127.0.0.1', genuine(2), signed(genuine(2)))).toBe(200)
    // Answered ahead of most of the forgeries that were there before it.
    expect(flood.statuses.length).toBeLessThan(16)
    expect(await flood.done).toEqual(Array(32).fill(401))
    expect(stored().map((e) => JSON.parse(e.body.toString()).data.orderId)).toEqual(['o-1', 'o-2'])
    // Refused, the forger's address waits again; Tylt's stays trusted, until it asks for a service that is
    // not there (a 404 is a refusal too).
    expect([turns.trusted('127.0.0.2'), turns.trusted('127.0.0.1')]).toEqual([false, true])
    expect(await post(port, '127.0.0.1', genuine(3), signed(genuine(3)), '/webhooks/nope')).toBe(404)
    expect(turns.trusted('127.0.0.1')).toBe(false)
  })
})
