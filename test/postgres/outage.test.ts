import { describe, expect, it } from 'vitest'
import { eventually, SECRETS, sign, sleep } from '../helpers/index.js'
import type { RelayProcess } from '../helpers/relay-process.js'
import { sql, startPrivateServer } from './postgres-helper.js'
import { callbacks, idOf, replica, steadyLoad } from './replica-helpers.js'

const readiness = async (relay: RelayProcess) => (await fetch(`${relay.opsUrl}/readyz`)).status

describe('PostgreSQL stopped under load', () => {
  it('answers 503 with Retry-After while it is down, loses nothing acknowledged, and recovers by itself', async () => {
    const server = await startPrivateServer()
    const relay = await replica(server.url)
    const load = steadyLoad(relay)
    await eventually(
      async () => load.answers.filter((a) => a.status === 200).length,
      (n) => n >= 200,
    )
    await server.stop()
    const downAt = performance.now()
    await sleep(2_500)
    expect(await readiness(relay)).toBe(503)
    const upAt = performance.now()
    await server.start()
    const recovered = await eventually(
      async () => load.answers.find((a) => a.answeredAt > upAt && a.status === 200),
      (a) => a !== undefined,
      15_000,
    )
    await load.stop()
    expect(await readiness(relay)).toBe(200)

    const whileDown = load.answers.filter((a) => a.answeredAt > downAt && a.answeredAt < upAt)
    expect(whileDown.length).toBeGreaterThan(20)
    expect(whileDown.filter((a) => a.status !== 503)).toEqual([])
    expect(whileDown.every((a) => a.retryAfter === '5')).toBe(true)
    process.stdout.write(
      `outage: ${whileDown.length} answered 503 while down, first 200 ${((recovered!.answeredAt - upAt) / 1000).toFixed(1)} s after the restart\n`,
    )

    const stored = new Set((await sql(server.url, 'SELECT id FROM tylt_events')).map((r) => r.id as string))
    const acknowledged = load.answers.filter((a) => a.status === 200)
    expect(acknowledged.filter((a) => !stored.has(a.id))).toEqual([])
    expect(relay.child.exitCode).toBeNull()
    expect(relay.output()).not.toContain('"level":60')
  }, 90_000)

  it('waits at start for a database that is not up yet, then serves', async () => {
    const server = await startPrivateServer()
    await server.stop()
    const starting = replica(server.url)
    await sleep(3_000)
    await server.start()
    const relay = await starting
    expect(relay.output()).toContain('PostgreSQL store not reachable yet; retrying')
    const [body] = callbacks(1)
    expect(
      (
        await fetch(`${relay.url}/webhooks/cpg`, {
          method: 'POST',
          headers: { 'x-tlp-signature': sign(SECRETS.cpg, body!) },
          body: body!,
        })
      ).status,
    ).toBe(200)
    expect(await sql(server.url, 'SELECT id FROM tylt_events')).toEqual([{ id: idOf(body!) }])
  }, 60_000)
})
