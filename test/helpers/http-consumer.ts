import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import { onTestFinished } from 'vitest'
import { freePort } from './relay-process.js'

/** What the consumer does with one request: answer with a status (after a delay), or never answer. */
export type Answer = { readonly status: number; readonly delayMs?: number } | 'hang'

export interface Consumer {
  readonly url: string
  /** `webhook-id` of each request answered 2xx, in arrival order, and of every request. */
  readonly received: string[]
  readonly offered: string[]
  /** Bodies answered 2xx (unless `keepBodies` is false). */
  readonly bodies: string[]
  /** Headers of each request answered 2xx, in arrival order (unless `keepBodies` is false). */
  readonly headers: IncomingHttpHeaders[]
  /** Decides each answer; 200 at once by default. */
  answer: (body: string, id: string) => Answer
  /** Bytes of every body received so far. */
  bytes: number
  /** Stops listening: connections to its port are refused (ECONNREFUSED) until `start`. */
  stop(): Promise<void>
  /** Listens again, on the same port. */
  start(): Promise<void>
}

/**
 * A real HTTP downstream on a free loopback port, whose answers the test scripts. Requests left hanging
 * are ended when the test ends.
 */
export async function startConsumer(path = '/events', options: { keepBodies?: boolean } = {}) {
  const hanging = new Set<ServerResponse>()
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (options.keepBodies !== false) chunks.push(chunk)
    })
    req.on('end', () => {
      const id = String(req.headers['webhook-id'] ?? '')
      const body = options.keepBodies === false ? '' : Buffer.concat(chunks).toString()
      consumer.offered.push(id)
      consumer.bytes += size
      const answer = consumer.answer(body, id)
      if (answer === 'hang') {
        hanging.add(res)
        return
      }
      const reply = () => {
        if (answer.status >= 200 && answer.status < 300) {
          consumer.received.push(id)
          if (options.keepBodies !== false) {
            consumer.bodies.push(body)
            consumer.headers.push(req.headers)
          }
        }
        res.writeHead(answer.status).end()
      }
      if (answer.delayMs === undefined) reply()
      else {
        hanging.add(res)
        setTimeout(() => {
          hanging.delete(res)
          if (!res.destroyed) reply()
        }, answer.delayMs)
      }
    })
  })
  const port = await freePort()
  const consumer: Consumer = {
    url: `http://127.0.0.1:${port}${path}`,
    received: [],
    offered: [],
    bodies: [],
    headers: [],
    answer: () => ({ status: 200 }),
    bytes: 0,
    stop: async () => {
      for (const res of hanging) res.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
    start: () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)),
  }
  await consumer.start()
  onTestFinished(async () => {
    if (server.listening) await consumer.stop()
  })
  return consumer
}
