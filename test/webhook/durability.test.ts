import { fdatasync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { fixture } from '../helpers/fixtures.js'
import { buildTestApp, postWebhook, SECRETS, sign } from '../helpers/index.js'

describe('acknowledgement', () => {
  it('is not sent before the fdatasync of the log that holds the event has ended', async () => {
    // The real store, with its sync of the write-ahead log held back until the test lets it run.
    let release: () => void = () => {}
    let synced = false
    const { app } = await buildTestApp({}, undefined, {
      sync: (fd, callback) => {
        release = () =>
          fdatasync(fd, (err) => {
            synced = true
            callback(err)
          })
      },
    })
    const body = fixture('cpg-pay-in.json')
    let answered = false
    const response = postWebhook(app, '/webhooks/cpg', body, sign(SECRETS.cpg, body)).then((res) => {
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
