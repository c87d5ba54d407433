import { connect, createServer, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { readIntoSink } from '../../src/http/overload-guard.js'

let server: Server | undefined
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  server = undefined
})

/** A listener whose first connection is handed to readIntoSink; resolves with the port and that socket. */
async function listenAndHold() {
  let take!: (held: { original: Socket; held: Socket; events: string[] }) => void
  const taken = new Promise<{ original: Socket; held: Socket; events: string[] }>((resolve) => {
    take = resolve
  })
  server = createServer({ allowHalfOpen: true }, (original) => {
    const held = readIntoSink(original)
    const events: string[] = []
    held.on('data', () => events.push('data'))
    held.on('end', () => {
      events.push('end')
      held.destroy()
    })
    held.on('close', () => events.push('close'))
    take({ original, held, events })
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return { port: address.port, taken }
}

describe('a held connection is read into one shared buffer', () => {
  it('moves the connection to a socket that reads without a buffer per read, sees the sender end, and closes it when told', async () => {
    const { port, taken } = await listenAndHold()
    const client = connect({ port, host: '127.0.0.1' })
    const clientClosed = new Promise<void>((resolve) => client.on('close', () => resolve()))
    await new Promise<void>((resolve) => client.on('connect', () => resolve()))
    const { original, held, events } = await taken
    // The accepted socket gave its connection away and is gone; the connection itself is still open.
    expect(held).not.toBe(original)
    expect(original.destroyed).toBe(true)
    expect(held.destroyed).toBe(false)
    expect(held.remotePort).toBe(client.localPort)
    // 512 KiB sent and read: never as 'data' (each would be a buffer of its own), and the connection
    // stays open while the sender has not ended it.
    await new Promise<void>((resolve) => client.write(Buffer.alloc(512 * 1024, 0x61), () => resolve()))
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(client.destroyed).toBe(false)
    expect(held.bytesRead).toBe(512 * 1024)
    // The sender ends its side: the held socket sees it, and closing it reaches the sender.
    client.end()
    await clientClosed
    expect(events).toEqual(['end', 'close'])
  })

  it('stops reading a sender that keeps writing past 1 MiB', async () => {
    const { port, taken } = await listenAndHold()
    const client = connect({ port, host: '127.0.0.1' })
    await new Promise<void>((resolve) => client.on('connect', () => resolve()))
    const { held } = await taken
    // Far more than the kernel's buffers hold: the writes can only all go out if the relay keeps reading.
    const chunk = Buffer.alloc(1024 * 1024, 0x62)
    for (let i = 0; i < 32; i++) client.write(chunk)
    await new Promise((resolve) => setTimeout(resolve, 500))
    const read = held.bytesRead
    expect(read).toBeGreaterThan(1024 * 1024)
    expect(read).toBeLessThan(1024 * 1024 + 256 * 1024)
    expect(client.writableLength).toBeGreaterThan(0)
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(held.bytesRead).toBe(read)
    held.destroy()
    client.destroy()
  })
})
