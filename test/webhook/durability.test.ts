import { fdatasync } from 'node:fs'
import pino from 'pino'
import { describe, expect, it, onTestFinished } from 'vitest'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config/load-config.js'
import { SecretRegistry } from '../../src/config/secret-registry.js'
import { createMetrics } from '../../src/ops/metrics.js'
import { GroupCommitStore } from '../../src/store/group-commit-store.js'
import { fixture } from '../fixtures.js'
import { SECRETS, sign, testEnv } from '../helper.js'

describe('acknowledgement', () => {
  it('is not sent before the fdatasync of the log that holds the event has ended', async () => {
    const config = loadConfig(testEnv())
    // The real store, with its sync of the write-ahead log held back until the test lets it run.
    let release: () => void = () => {}
    let synced = false
    const store = new GroupCommitStore(config.dataDir, {
      sync: (fd, callback) => {
        release = () =>
          fdatasync(fd, (err) => {
            synced = true
            callback(err)
          })
      },
    })
    const logger = pino({ level: 'silent' })
    const app = buildApp(config, {
      logger,
      store,
      secrets: new SecretRegistry(config.services, logger),
      metrics: createMetrics(store),
    })
    onTestFinished(async () => {
      await app.close()
      await store.close()
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
    expect(synced).toBe(true)
    expect([res.statusCode, res.body]).toEqual([200, 'ok'])
  })
})
