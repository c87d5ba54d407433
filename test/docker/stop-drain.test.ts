import { expect, test } from 'vitest'
import { cleanupAfterAll, docker, images, inspect, LABEL, logs, uniqueName, until } from './engine.js'
import {
  callbackBody,
  hostDir,
  postCallback,
  ready,
  runRelay,
  signature,
  writeKubeSecret,
} from './relay-container.js'

const SECRET = `drain-test-key-${Date.now().toString(36)}`
const resources = cleanupAfterAll()

async function xlen(redis: string, stream: string): Promise<number> {
  const { stdout } = await docker(['exec', redis, 'redis-cli', 'XLEN', stream])
  return Number(stdout.trim())
}

test('docker stop with the downstream down and SHUTDOWN_GRACE 30s exits 0 within a few seconds, not killed at 10 s, and the pending events go out after the next start', async () => {
  const network = resources.network(uniqueName('net'))
  await docker(['network', 'create', '--label', LABEL, network])
  const redis = resources.container(uniqueName('redis'))
  await docker([
    'run',
    '-d',
    '--name',
    redis,
    '--label',
    LABEL,
    '--network',
    network,
    '--network-alias',
    'redis',
    images().redis,
    // Nothing kept across its restart: after it, the stream holds only what the relay delivers then.
    'redis-server',
    '--save',
    '',
    '--appendonly',
    'no',
  ])
  await until(
    () => docker(['exec', redis, 'redis-cli', 'PING'], { check: false }),
    (r) => r.stdout.includes('PONG'),
    30_000,
  )

  const stream = uniqueName('stream')
  const secrets = hostDir('secrets')
  writeKubeSecret(secrets, { demo: `${SECRET}\n` })
  const name = resources.container(uniqueName('draining'))
  const relay = await runRelay({
    name,
    network,
    volume: resources.volume(uniqueName('data')),
    secrets,
    // The grace Kubernetes and Compose give it (docker/), three times Docker's 10 s: only ending the drain
    // once the downstream makes no progress lets `docker stop` end before its SIGKILL.
    env: { FORWARD_URL: `redis://redis:6379?stream=${stream}`, SHUTDOWN_GRACE: '30s' },
  })
  let { url } = await ready(relay)
  const first = callbackBody('drain-0')
  expect(await postCallback(url, first, signature(SECRET, first))).toEqual([200, 'ok'])
  await until(
    () => xlen(redis, stream),
    (n) => n === 1,
    30_000,
  )

  // The downstream goes away; callbacks are still acknowledged, and stay pending in the store.
  await docker(['stop', redis])
  const pending = ['drain-1', 'drain-2', 'drain-3'].map(callbackBody)
  for (const body of pending)
    expect(await postCallback(url, body, signature(SECRET, body))).toEqual([200, 'ok'])
  expect((await relay.events()).filter((e) => e.state === 'pending')).toHaveLength(3)

  // Docker's default: SIGTERM, then SIGKILL after 10 s. A kill would leave exit code 137; a relay that
  // waited out its grace would be killed at 10 s.
  const stopStarted = Date.now()
  await docker(['stop', name])
  const stopSeconds = (Date.now() - stopStarted) / 1000
  console.log(`docker: docker stop with the downstream down took ${stopSeconds.toFixed(1)} s`)
  const output = await logs(name)
  expect(await inspect(name, '{{.State.ExitCode}} {{.State.OOMKilled}}'), output.slice(-3000)).toBe('0 false')
  expect(stopSeconds, output.slice(-3000)).toBeLessThan(7)
  expect(output).toMatch(/"graceMs":30000\b/)
  expect(output).toContain('stopped; 3 events pending')
  expect(output).not.toContain('shutdown took longer than SHUTDOWN_GRACE')

  await docker(['start', redis])
  await until(
    () => docker(['exec', redis, 'redis-cli', 'PING'], { check: false }),
    (r) => r.stdout.includes('PONG'),
    30_000,
  )
  await docker(['start', name])
  ;({ url } = await ready(relay))
  // Exactly the three pending events arrive, nothing else.
  await until(
    () => xlen(redis, stream),
    (n) => n >= 3,
    60_000,
  )
  const { stdout } = await docker(['exec', redis, 'redis-cli', '--raw', 'XRANGE', stream, '-', '+'])
  for (const body of pending) expect(stdout).toContain(JSON.parse(body.toString()).data.orderId)
  expect(stdout).not.toContain('drain-0')
  expect(await xlen(redis, stream)).toBe(3)
  expect((await relay.events()).every((e) => e.state === 'delivered')).toBe(true)
})
