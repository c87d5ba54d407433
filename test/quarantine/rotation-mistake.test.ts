import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { describe, expect, it, onTestFinished } from 'vitest'
import { eventId } from '../../src/event/event-id.js'
import { uniqueName } from '../forward/sinks/helpers.js'
import { fixture } from '../helpers/fixtures.js'
import { eventually, sample, sign, sleep, tempDir } from '../helpers/index.js'
import { listEvents, post, type RelayProcess, runCli, startRelay } from '../helpers/relay-process.js'

const OLD = 'tylt-key-2025-old-3b7d'
const NEW = 'tylt-key-2026-new-c81f'
const body = fixture('cpg-pay-in.json')

/** A unique stream on the shared Redis, read as a consumer would, fields and values as bytes. */
function redisStream() {
  const stream = uniqueName('tylt-quarantine')
  const redis = new Redis('redis://127.0.0.1:6379')
  onTestFinished(async () => {
    await redis.del(stream)
    redis.disconnect()
  })
  const read = async () =>
    (await redis.xrangeBuffer(stream, '-', '+')).map(([, fields]) => {
      const entry = new Map<string, Buffer>()
      for (let i = 0; i < fields.length; i += 2) entry.set(fields[i]!.toString(), fields[i + 1]!)
      return entry
    })
  return { url: `redis://127.0.0.1:6379?stream=${stream}`, read }
}

async function quarantined(env: Record<string, string>) {
  const { code, stdout, stderr } = await runCli(['quarantine', 'list', '--json'], env)
  if (code !== 0) throw new Error(stderr)
  return JSON.parse(stdout) as {
    id: string
    reason: string
    service: string | null
    path: string
    receivedAt: number
  }[]
}

async function waitQuarantined(env: Record<string, string>, count: number) {
  return eventually(
    () => quarantined(env),
    (list) => list.length === count,
  )
}

const NOT_FOUND = 'not in quarantine (already retried or dropped); nothing done'
const summary = (accepted: number, duplicate: number, refused: number, missing: number) =>
  `accepted ${accepted}, already accepted ${duplicate}, still refused ${refused}, not found ${missing}`

/** The recovered event as it reached Redis: the exact bytes, the original id formula, the recovery mark. */
async function expectRecovered(
  read: () => Promise<Map<string, Buffer>[]>,
  service: string,
  receivedAt: number,
) {
  const entries = await eventually(read, (e) => e.length > 0)
  expect(entries).toHaveLength(1)
  const entry = entries[0]!
  expect(entry.get('body')?.equals(body)).toBe(true)
  expect(entry.get('webhook-id')?.toString()).toBe(eventId(service, body))
  expect(entry.get('tylt-service')?.toString()).toBe(service)
  expect(entry.get('tylt-recovered')?.toString()).toBe('quarantine')
  expect(entry.get('tylt-accepted-at')?.toString()).toBe(String(Math.floor(receivedAt / 1000)))
}

function expectNoSecretLogged(relay: RelayProcess, ...secrets: string[]) {
  const log = relay.output()
  for (const secret of secrets) expect(log).not.toContain(secret)
  // Never the body (it holds personal data) nor the signature.
  expect(log).not.toContain('9b1e4c2a-5d7f-4e8a-b3c6-1f2e3d4c5b6a')
  expect(log).not.toContain(sign(NEW, body))
}

describe('a configuration mistake loses nothing: quarantine, then retry', () => {
  it('a rotated secret: 401 and quarantined; the secret added to the file; retry accepts it once', async () => {
    const file = join(tempDir(), 'x')
    writeFileSync(file, `${OLD}\n`)
    const redis = redisStream()
    const env = { TYLT_SECRET_X_FILE: file, DATA_DIR: tempDir(), FORWARD_URL: redis.url, LOG_LEVEL: 'info' }
    const relay = await startRelay(env)

    // Tylt signs with a key generated in its dashboard that the relay does not have yet.
    expect(await post(`${relay.url}/webhooks/x`, body, sign(NEW, body))).toEqual({
      status: 401,
      body: 'invalid signature',
    })
    const [q] = await waitQuarantined(env, 1)
    expect(q).toMatchObject({ reason: 'mismatch', service: 'x', path: '/webhooks/x' })
    const metrics = await relay.metrics()
    expect(sample(metrics, 'tylt_relay_quarantined_total', { service: 'x', reason: 'mismatch' })).toBe(1)
    expect(sample(metrics, 'tylt_relay_quarantine_requests')).toBe(1)
    // The log is written in batches (at most 100 ms late): wait for the line, then check there is one.
    const logged = await eventually(
      async () => relay.stdout.filter((l) => l.includes('"request quarantined"')),
      (lines) => lines.length > 0,
    )
    await sleep(200)
    expect(relay.stdout.filter((l) => l.includes('"request quarantined"'))).toEqual(logged)
    expect(logged).toHaveLength(1)
    expect(JSON.parse(logged[0]!)).toMatchObject({
      quarantineId: q!.id,
      reason: 'mismatch',
      path: '/webhooks/x',
    })

    // Before the fix, a retry changes nothing and says why.
    expect(await runCli(['quarantine', 'retry', '--all'], env)).toEqual({
      code: 1,
      stdout: `${q!.id}: still refused: the signature matches no secret configured for x; kept\n${summary(0, 0, 1, 0)}\n`,
      stderr: '',
    })
    expect((await runCli(['verify', '--quarantined', q!.id], env)).stdout).toBe(
      'not verified: the signature matches no secret configured for x\n',
    )

    // The operator adds the new key to the secret file; no restart.
    writeFileSync(file, `${NEW}\n${OLD}\n`)
    expect(await runCli(['verify', '--quarantined', q!.id], env)).toEqual({
      code: 0,
      stdout: 'verified: service x, current secret, raw bytes\n',
      stderr: '',
    })
    expect(await runCli(['quarantine', 'retry', '--all'], env)).toEqual({
      code: 0,
      stdout: `${q!.id}: accepted as ${eventId('x', body)} (service x, current secret, raw bytes)\n${summary(1, 0, 0, 0)}\n`,
      stderr: '',
    })
    // The running relay's forwarder finds it on its own.
    await expectRecovered(redis.read, 'x', q!.receivedAt)

    // Retried once is gone: again does nothing.
    expect(await runCli(['quarantine', 'retry', q!.id], env)).toEqual({
      code: 1,
      stdout: `${q!.id}: ${NOT_FOUND}\n${summary(0, 0, 0, 1)}\n`,
      stderr: '',
    })
    expect((await runCli(['quarantine', 'retry', '--all'], env)).stdout).toBe('nothing is quarantined\n')
    // A re-send from the Tylt dashboard is a duplicate of the recovered event.
    expect(await post(`${relay.url}/webhooks/x`, body, sign(NEW, body))).toEqual({ status: 200, body: 'ok' })
    const counted = await relay.metrics()
    expect(sample(counted, 'tylt_relay_webhook_requests_total', { service: 'x', outcome: 'duplicate' })).toBe(
      1,
    )
    expect(
      sample(counted, 'tylt_relay_webhook_requests_total', { service: 'x', outcome: 'accepted' }),
    ).toBeUndefined()
    await sleep(1_500)
    expect(await redis.read()).toHaveLength(1)
    const events = await listEvents(env)
    expect(events.map((e) => [e.id, e.recovered, e.acceptedAt])).toEqual([
      [eventId('x', body), 'quarantine', q!.receivedAt],
    ])
    expectNoSecretLogged(relay, OLD, NEW)
  })

  it('a service not configured yet: 404 and quarantined; the service added, the relay restarted; retry accepts it', async () => {
    const redis = redisStream()
    const env = { TYLT_SECRET_X: OLD, DATA_DIR: tempDir(), FORWARD_URL: redis.url, LOG_LEVEL: 'info' }
    const first = await startRelay(env)
    expect(await post(`${first.url}/webhooks/new-service`, body, sign(NEW, body))).toEqual({
      status: 404,
      body: 'not found',
    })
    const [q] = await waitQuarantined(env, 1)
    expect(q).toMatchObject({
      reason: 'unknown_service',
      service: 'new-service',
      path: '/webhooks/new-service',
    })
    expect((await runCli(['quarantine', 'retry', q!.id], env)).stdout).toBe(
      `${q!.id}: still refused: service new-service is not configured; kept\n${summary(0, 0, 1, 0)}\n`,
    )
    expect(await first.stop()).toBe(0)
    expectNoSecretLogged(first, OLD, NEW)

    const fixed = { ...env, TYLT_SECRET_NEW_SERVICE: NEW }
    await startRelay(fixed)
    expect(await runCli(['quarantine', 'retry', '--all'], fixed)).toEqual({
      code: 0,
      stdout: `${q!.id}: accepted as ${eventId('new-service', body)} (service new-service, current secret, raw bytes)\n${summary(1, 0, 0, 0)}\n`,
      stderr: '',
    })
    await expectRecovered(redis.read, 'new-service', q!.receivedAt)
    expect((await runCli(['quarantine', 'retry', q!.id], fixed)).stdout).toBe(
      `${q!.id}: ${NOT_FOUND}\n${summary(0, 0, 0, 1)}\n`,
    )
    await sleep(1_500)
    expect(await redis.read()).toHaveLength(1)
  })
})
