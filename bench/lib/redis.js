// A private redis-server for the forwarding and drain runs (never the machine's shared one on 6379).
import { Redis } from 'ioredis'
import { LOAD_CORE } from './load.js'
import { assertPortsFree, portOpen, start, stop, waitUntil } from './proc.js'

export async function startRedis(port, logFile) {
  await assertPortsFree(port)
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']
  // Redis shares the load core: the relay's core is the one being measured.
  const child = start('redis-server', args, { core: LOAD_CORE, logFile })
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 })
  client.on('error', () => undefined)
  // Wait for the port first: a client whose first connect failed keeps reconnecting by itself, and a
  // second connect() on it throws "already connecting", so polling connect() could wait forever.
  await waitUntil(`redis-server on ${port}`, () => portOpen(port), { child, logFile })
  await client.connect()
  if ((await client.ping()) !== 'PONG') throw new Error(`redis-server on ${port} does not answer PING`)
  return {
    child,
    client,
    xlen: (stream) => client.xlen(stream),
    async stop() {
      client.disconnect()
      await stop(child)
    },
  }
}
