// A private redis-server for the forwarding and drain runs (never the machine's shared one on 6379).
import { Redis } from 'ioredis'
import { LOAD_CORE } from './load.js'
import { start, stop, waitUntil } from './proc.js'

export async function startRedis(port, logFile) {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']
  // Redis shares the load core: the relay's core is the one being measured.
  const child = start('redis-server', args, { core: LOAD_CORE, logFile })
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 })
  client.on('error', () => undefined)
  await waitUntil(
    `redis-server on ${port}`,
    async () => (await client.connect().then(() => client.ping())) === 'PONG',
    {
      child,
      logFile,
    },
  )
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
