import { createServer } from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { loadConfig } from '../src/config/load-config.js'
import { createLogger } from '../src/logger.js'
import { createRelay } from '../src/relay.js'
import { fixture } from './helpers/fixtures.js'
import { SECRETS, sign, tempDir } from './helpers/index.js'
import { freePort } from './helpers/ports.js'
import { startTestRelay } from './helpers/test-relay.js'

async function holdPort(): Promise<number> {
  const port = await freePort()
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return port
}

describe('createRelay', () => {
  it('serves a callback end to end in this process, then stops and closes its listeners', async () => {
    const relay = await startTestRelay({ TYLT_SECRET_CPG: SECRETS.cpg })
    const body = fixture('cpg-pay-in.json')
    const answer = await fetch(`${relay.url}/webhooks/cpg`, {
      method: 'POST',
      headers: { 'x-tlp-signature': sign(SECRETS.cpg, body) },
      body,
    })
    expect([answer.status, await answer.text()]).toEqual([200, 'ok'])
    expect((await fetch(`${relay.opsUrl}/readyz`)).status).toBe(200)
    expect(await relay.relay.store.list({ limit: 10 })).toHaveLength(1)
    expect(relay.output()).toContain('tylt-relay ready: webhooks on http://127.0.0.1:')
    // Without a downstream there is nothing to drain.
    expect(await relay.stop()).toMatchObject({ drained: true })
    await expect(fetch(`${relay.url}/webhooks/cpg`, { method: 'POST', body })).rejects.toThrow()
  })

  it.each(['PORT', 'OPS_PORT'] as const)(
    'a busy %s: start() rejects naming it, closes what it opened, and the DATA_DIR is free again',
    async (variable) => {
      const port = await holdPort()
      const env = {
        TYLT_SECRET_CPG: SECRETS.cpg,
        DATA_DIR: tempDir(),
        HOST: '127.0.0.1',
        OPS_HOST: '127.0.0.1',
      }
      const config = loadConfig({ ...env, PORT: '0', OPS_PORT: '0', [variable]: String(port) })
      const logger = createLogger('silent')
      const relay = await createRelay(config, logger)
      await expect(relay.start()).rejects.toMatchObject({
        code: 'TYLT_LISTEN',
        message: expect.stringMatching(
          new RegExp(`^${variable}=${port} is already in use on 127\\.0\\.0\\.1.*\\(EADDRINUSE\\)$`),
        ),
      })
      expect(relay.app.server.listening || relay.ops.server.listening).toBe(false)
      // The store was closed and DATA_DIR's lock released: another relay can take the folder.
      const next = await createRelay(loadConfig({ ...env, PORT: '0', OPS_PORT: '0' }), logger)
      await next.start()
      await next.stop(0)
    },
  )
})
