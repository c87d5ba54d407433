import { describe, expect, it } from 'vitest'
import { fixture } from '../helpers/fixtures.js'
import { eventually, SECRETS, sign, sleep, tempDir } from '../helpers/index.js'
import { startRelay } from '../helpers/relay-process.js'
import { sql, startPrivateServer } from '../postgres/postgres-helper.js'

const body = fixture('cpg-pay-in.json')

const postCallback = async (url: string) => {
  const response = await fetch(`${url}/webhooks/cpg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-tlp-signature': sign(SECRETS.cpg, body) },
    body,
  })
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    text: await response.text(),
  }
}

const status = async (url: string) => (await fetch(url)).status

/** A PostgreSQL of the test's own, initialised, then stopped: the database of a roll-out that is not up yet. */
async function databaseNotUpYet() {
  const server = await startPrivateServer()
  await server.stop()
  return server
}

describe('STORE_URL at a PostgreSQL that is not up yet', () => {
  it('listens at once: webhooks 503 with Retry-After, /readyz 503, /healthz 200; serves once it comes; one line per outage', async () => {
    const server = await databaseNotUpYet()
    const env = { TYLT_SECRET_CPG: SECRETS.cpg, DATA_DIR: tempDir(), STORE_URL: server.url }
    const relay = await startRelay(env, { waitFor: 'live' })

    expect(await postCallback(relay.url)).toEqual({
      status: 503,
      retryAfter: '5',
      text: 'store unavailable, retry later',
    })
    expect(await status(`${relay.opsUrl}/readyz`)).toBe(503)
    expect(await status(`${relay.opsUrl}/healthz`)).toBe(200)
    // Long enough for the relay to have tried the database several times.
    await sleep(5_000)
    const waiting = relay.stdout.filter((line) => line.includes('PostgreSQL store not reachable yet'))
    expect(waiting, relay.output()).toHaveLength(1)
    expect(JSON.parse(waiting[0]!), waiting[0]).toMatchObject({ level: 40, code: expect.any(String) })
    expect(waiting[0]).not.toContain('"stack"')
    expect(await sql(server.url, 'SELECT 1 AS up').catch(() => 'down')).toBe('down')

    await server.start()
    await eventually(
      () => status(`${relay.opsUrl}/readyz`),
      (code) => code === 200,
      15_000,
    )
    expect(await postCallback(relay.url)).toEqual({ status: 200, retryAfter: null, text: 'ok' })
    expect(await sql(server.url, 'SELECT count(*)::int AS n FROM tylt_events')).toEqual([{ n: 1 }])
    // The log line is written asynchronously: wait for it, then check there is exactly one.
    const serving = await eventually(
      async () => relay.stdout.filter((line) => line.includes('PostgreSQL store reachable; serving')),
      (lines) => lines.length > 0,
      5_000,
    )
    expect(serving, relay.output()).toHaveLength(1)
    expect(relay.output()).not.toContain('"level":60')
    expect(await relay.stop(), relay.output()).toBe(0)
  }, 60_000)

  it('SIGTERM while it waits for the database: exits 0 at once, nothing left running', async () => {
    const server = await databaseNotUpYet()
    const env = {
      TYLT_SECRET_CPG: SECRETS.cpg,
      DATA_DIR: tempDir(),
      STORE_URL: server.url,
      SHUTDOWN_GRACE: '5s',
    }
    const relay = await startRelay(env, { waitFor: 'live' })
    const started = Date.now()
    expect(await relay.stop('SIGTERM'), relay.output()).toBe(0)
    // Within the grace: the wait for the database was given up, not sat out.
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(relay.output()).not.toContain('"level":60')
  }, 30_000)
})
