import { createServer, type Server } from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { startConsumer } from '../helpers/http-consumer.js'
import { SECRETS, tempDir } from '../helpers/index.js'
import { freePort, startRelay } from '../helpers/relay-process.js'
import { testSchema } from '../postgres/postgres-helper.js'

/** Another process's listener on a port of its own, as when a second copy of a service already runs. */
async function holdPort(): Promise<number> {
  const port = await freePort()
  const server: Server = createServer()
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return port
}

/** Well beyond the second or two an exit takes, well below the "forever" of a relay kept alive. */
const EXIT_WITHIN_MS = 10_000

const downstreams: Record<string, () => Promise<Record<string, string>>> = {
  redis: async () => ({ FORWARD_URL: `redis://127.0.0.1:6379?stream=tylt-busy-port-${process.pid}` }),
  nats: async () => ({ FORWARD_URL: 'nats://127.0.0.1:4222?subject=tylt.busy-port' }),
  http: async () => ({ FORWARD_URL: (await startConsumer()).url }),
  'postgresql store and redis': async () => ({
    STORE_URL: (await testSchema()).url,
    FORWARD_URL: `redis://127.0.0.1:6379?stream=tylt-busy-port-${process.pid}`,
  }),
}

describe('a port another process holds', () => {
  for (const variable of ['PORT', 'OPS_PORT'] as const) {
    it.each(Object.keys(downstreams))(
      `${variable} busy, downstream %s: exits 1 at once, naming ${variable}; nothing keeps it alive`,
      async (name) => {
        const port = await holdPort()
        const env = {
          TYLT_SECRET_CPG: SECRETS.cpg,
          DATA_DIR: tempDir(),
          ...(await downstreams[name]!()),
          [variable]: String(port),
        }
        const relay = await startRelay(env, { waitFor: 'nothing' })
        const timeout = new Promise<string>((resolve) =>
          setTimeout(() => resolve('still running'), EXIT_WITHIN_MS),
        )
        expect(await Promise.race([relay.exited, timeout]), relay.output()).toBe(1)
        // One line saying which variable to change, as for every refusal to start; no stack trace.
        expect(
          relay.stderr.filter((line) => line !== ''),
          relay.output(),
        ).toEqual([
          `tylt-relay: ${variable}=${port} is already in use on 127.0.0.1: another process listens there; ` +
            `stop it or set ${variable} to a free port (EADDRINUSE)`,
        ])
        // It never said it was serving.
        expect(relay.output()).not.toContain('tylt-relay ready')
      },
      30_000,
    )
  }
})
