import pino from 'pino'
import { describe, expect, it, onTestFinished } from 'vitest'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config/load-config.js'
import { SecretRegistry } from '../../src/config/secret-registry.js'
import { createMetrics } from '../../src/ops/metrics.js'
import { ThreadedStore } from '../../src/store/threaded-store.js'
import type { EventStore } from '../../src/store/types.js'
import { fixture } from '../fixtures.js'
import { SECRETS, sign, testEnv } from '../helper.js'

describe('acknowledgement', () => {
  it('is not sent before the store confirms the commit', async () => {
    const config = loadConfig(testEnv())
    const real = await ThreadedStore.open(config.dataDir)
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    let committed = false
    // The real store, with its confirmation held back until the test lets it through.
    const store: EventStore = Object.assign(Object.create(real) as EventStore, {
      append: async (event: Parameters<EventStore['append']>[0]) => {
        const inserted = await real.append(event)
        await gate
        committed = true
        return inserted
      },
    })
    const logger = pino({ level: 'silent' })
    const app = buildApp(config, {
      logger,
      store,
      secrets: new SecretRegistry(config.services, logger),
      metrics: createMetrics(real),
    })
    onTestFinished(async () => {
      await app.close()
      await real.close()
    })
    const body = fixture('cpg-pay-in.json')
    let answered = false
    const response = app
      .inject({
        method: 'POST',
        url: '/webhooks/cpg',
        headers: { 'x-tlp-signature': sign(SECRETS.cpg, body) },
        payload: body,
      })
      .then((res) => {
        answered = true
        return res
      })
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(answered).toBe(false)
    release()
    const res = await response
    expect(committed).toBe(true)
    expect([res.statusCode, res.body]).toEqual([200, 'ok'])
  })
})
