import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { freePort } from '../helpers/relay-process.js'
import { docker, images, type Result, uniqueName, until } from './engine.js'
import { callbackBody, hostDir, postCallback, signature } from './relay-container.js'

/** The Compose implementations this machine has: the v2 plugin and/or docker-compose 1.x. */
function tools(): string[][] {
  const found: string[][] = []
  const works = (file: string, args: string[]) => {
    try {
      execFileSync(file, args, { stdio: 'ignore' })
      return true
    } catch {
      return false
    }
  }
  if (works('docker', ['compose', 'version'])) found.push(['compose'])
  if (works('docker-compose', ['version'])) found.push(['docker-compose'])
  return found
}

const available = tools()

// Not a reason to skip: .ci/run installs docker-compose next to the engine, so none here is a broken setup.
test('a Compose implementation is installed (docker compose or docker-compose)', () => {
  expect(
    available,
    'neither `docker compose` nor docker-compose is installed: apt-get install docker-compose (.ci/run does)',
  ).not.toEqual([])
})

describe.each(available)('docker/compose.yaml with %s', (...tool) => {
  const project = uniqueName('compose').replace(/-/g, '')
  const key = `compose-key-${Date.now().toString(36)}`
  let env: Record<string, string>
  let dir: string
  const compose = (args: string[], check = true): Promise<Result> =>
    docker([...tool, '-p', project, '-f', join(dir, 'docker/compose.yaml'), ...args], {
      env,
      cwd: dir,
      check,
      timeoutMs: 900_000,
    })
  afterAll(async () => {
    if (dir !== undefined) await compose(['down', '-v', '--rmi', 'local', '--timeout', '5'], false)
  })

  // The consumer's image compiles and packs the relay before the stack starts: longer than the default.
  test('up: a signed callback reaches the example consumer, built on the kit, through Redis; a forged one does not', {
    timeout: 600_000,
  }, async () => {
    // A copy of the clean checkout, with the secret file the header of compose.yaml asks for.
    dir = hostDir('compose')
    cpSync(images().checkout, dir, { recursive: true })
    mkdirSync(join(dir, 'docker/secrets'), { recursive: true })
    writeFileSync(join(dir, 'docker/secrets/demo'), `${key}\n`, { mode: 0o644 })
    const [port, opsPort] = [await freePort(), await freePort()]
    env = {
      NODE_IMAGE: images().node,
      REDIS_IMAGE: images().redis,
      RELAY_PORT: String(port),
      RELAY_OPS_PORT: String(opsPort),
      COMPOSE_DOCKER_CLI_BUILD: '0',
    }
    await compose(['up', '-d', '--build'])
    const url = `http://127.0.0.1:${port}`
    await until(
      () =>
        fetch(`http://127.0.0.1:${opsPort}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
          (r) => r.status,
          () => 0,
        ),
      (status) => status === 200,
      120_000,
    )
    const body = callbackBody('compose-1')
    expect(await postCallback(url, body, signature(key, body))).toEqual([200, 'ok'])
    const forged = callbackBody('compose-forged')
    expect((await postCallback(url, forged, signature('not-the-key', forged)))[0]).toBe(401)

    const printed = await until(
      async () => (await compose(['logs', '--no-color', 'consumer'])).stdout,
      (out) => out.includes('compose-1'),
      60_000,
    )
    const line = printed.split('\n').find((l) => l.includes('compose-1')) ?? ''
    const event = JSON.parse(line.slice(line.indexOf('{'))) as Record<string, string>
    // Printed by the example's handler, from the event the consumer kit parsed.
    expect(event).toMatchObject({
      service: 'demo',
      'merchant-order-id': 'm-compose-1',
      status: 'Completed',
      outcome: 'success',
    })
    expect(event['webhook-id']).toMatch(/^evt_/)
    expect(printed).not.toContain('compose-forged')
    // Published on the host's loopback only.
    const ports = (await compose(['ps'])).stdout
    expect(ports).toContain(`127.0.0.1:${port}->3000/tcp`)
    expect(ports).not.toMatch(/0\.0\.0\.0:\d+->/)
  })
})
