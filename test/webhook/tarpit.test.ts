import { connect, createServer, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { holdAtAccept, type Tarpit } from '../../src/http/tarpit.js'

const ATTACKER = '127.0.0.2'
const HOLD_MS = 400

let server: Server | undefined
let tarpit: Tarpit | undefined
afterEach(async () => {
  tarpit?.close()
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  server = undefined
  tarpit = undefined
})

/** A listener that reads and answers `hello` to each connection it is given, with a tarpit refusing ATTACKER. */
async function listen(max = 8, armed = () => true) {
  const given: string[] = []
  server = createServer((socket) => {
    given.push(socket.remoteAddress ?? '')
    socket.resume()
    socket.end('hello')
  })
  let refusals = 0
  tarpit = holdAtAccept(server, (address) => address === ATTACKER && ++refusals > 0, {
    holdMs: HOLD_MS,
    max,
    armed,
  })
  expect(tarpit.installed()).toBe(false)
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  expect(tarpit.installed()).toBe(true)
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return { port: address.port, given, refusals: () => refusals }
}

/** Connects from `from`, writes `bytes`, and resolves with what came back and when the connection closed. */
function attempt(port: number, from: string, bytes = 1_024) {
  const startedAt = performance.now()
  const socket: Socket = connect({ port, host: '127.0.0.1', localAddress: from })
  const connected = new Promise<void>((resolve) => socket.on('connect', () => resolve()))
  const closed = new Promise<{ answer: string; ms: number }>((resolve) => {
    let answer = ''
    socket.setEncoding('latin1')
    socket.on('connect', () => socket.write(Buffer.alloc(bytes, 0x61)))
    socket.on('data', (chunk: string) => {
      answer += chunk
    })
    socket.on('error', () => {})
    socket.on('close', () => resolve({ answer, ms: performance.now() - startedAt }))
  })
  return { socket, connected, closed }
}

describe('the tarpit takes a refused address at accept', () => {
  it('holds its connection open and unread, never gives it to the server, closes it after its hold; others are served', async () => {
    const { port, given } = await listen()
    const held = attempt(port, ATTACKER)
    await held.connected
    // Another address is served at once while the attacker's connection is held.
    expect(await attempt(port, '127.0.0.1').closed).toMatchObject({ answer: 'hello' })
    await new Promise((resolve) => setTimeout(resolve, HOLD_MS / 2))
    expect(tarpit!.held()).toBe(1)
    expect(held.socket.destroyed).toBe(false)
    const { answer, ms } = await held.closed
    expect(answer).toBe('')
    expect(ms).toBeGreaterThanOrEqual(HOLD_MS - 5)
    expect(ms).toBeLessThan(HOLD_MS + 500)
    expect(tarpit!.held()).toBe(0)
    expect(given).toEqual(['127.0.0.1'])
  })

  it('past its bound, closes the next connections as soon as they are accepted', async () => {
    const { port, given } = await listen(2)
    const first = [attempt(port, ATTACKER), attempt(port, ATTACKER)]
    await Promise.all(first.map((a) => a.connected))
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(tarpit!.held()).toBe(2)
    const third = await attempt(port, ATTACKER).closed
    expect(third.answer).toBe('')
    expect(third.ms).toBeLessThan(HOLD_MS / 2)
    expect(tarpit!.held()).toBe(2)
    for (const a of first) expect(a.socket.destroyed).toBe(false)
    await Promise.all(first.map((a) => a.closed))
    expect(given).toEqual([])
  })

  it('close() lets every held connection go at once and gives the server its connections back', async () => {
    const { port, given } = await listen()
    const held = attempt(port, ATTACKER, 512 * 1024)
    await held.connected
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(tarpit!.held()).toBe(1)
    tarpit!.close()
    expect((await held.closed).ms).toBeLessThan(HOLD_MS)
    expect(tarpit!.held()).toBe(0)
    expect(await attempt(port, ATTACKER).closed).toMatchObject({ answer: 'hello' })
    expect(given).toEqual([ATTACKER])
  })

  it('while not armed, looks nobody up and passes every connection on', async () => {
    let armed = false
    const { port, given, refusals } = await listen(8, () => armed)
    expect(await attempt(port, ATTACKER).closed).toMatchObject({ answer: 'hello' })
    expect(refusals()).toBe(0)
    armed = true
    const held = attempt(port, ATTACKER)
    await held.connected
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(tarpit!.held()).toBe(1)
    expect(refusals()).toBe(1)
    expect(given).toEqual([ATTACKER])
  })
})
