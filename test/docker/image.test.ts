import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { cleanupAfterAll, docker, images, inspect, logs, uniqueName, until } from './engine.js'
import {
  callbackBody,
  hostDir,
  postCallback,
  type RelayContainer,
  ready,
  runRelay,
  signature,
  writeKubeSecret,
} from './relay-container.js'

const SECRET = `image-test-key-${Date.now().toString(36)}`
const resources = cleanupAfterAll()
/**
 * What the image may add to its base (docs/container.md, "Size"): tini, dist and the production node_modules
 * measure about 18 MB; with better-sqlite3's build leftovers kept it would be about 43 MB.
 */
const MAX_MB_OVER_BASE = 30

describe('the image, built from a clean checkout', () => {
  test(`builds without npm warnings, adds under ${MAX_MB_OVER_BASE} MB to its base and keeps only the native binding of better-sqlite3`, async () => {
    const log = readFileSync(join(images().checkout, '.build.log'), 'utf8')
    expect(log).toMatch(/Successfully tagged/)
    expect(log).not.toMatch(/Unknown env config/)
    const size = Number(await inspect(images().relay, '{{.Size}}'))
    const base = Number(await inspect(images().node, '{{.Size}}'))
    const added = (size - base) / 1e6
    console.log(
      `docker: image ${images().relay} is ${(size / 1e6).toFixed(1)} MB, ${added.toFixed(1)} MB over its base`,
    )
    expect(added).toBeLessThan(MAX_MB_OVER_BASE)
    const { stdout } = await docker([
      'run',
      '--rm',
      '--entrypoint',
      'find',
      images().relay,
      '/app/node_modules/better-sqlite3',
      '/app',
      '-maxdepth',
      '1',
    ])
    const found = stdout.split('\n').filter(Boolean)
    expect(found).toContain('/app/node_modules/better-sqlite3/build')
    for (const gone of ['deps', 'src'])
      expect(found).not.toContain(`/app/node_modules/better-sqlite3/${gone}`)
    // The build context had no tests, sources or git metadata to leak; only dist reaches the image.
    expect(found.filter((f) => /^\/app\/[^/]+$/.test(f)).sort()).toEqual([
      '/app/dist',
      '/app/node_modules',
      '/app/package.json',
    ])
    const binding = await docker([
      'run',
      '--rm',
      '--entrypoint',
      'find',
      images().relay,
      '/app/node_modules/better-sqlite3/build',
    ])
    expect(binding.stdout.split('\n').filter(Boolean).sort()).toEqual([
      '/app/node_modules/better-sqlite3/build',
      '/app/node_modules/better-sqlite3/build/Release',
      '/app/node_modules/better-sqlite3/build/Release/better_sqlite3.node',
    ])
  })
})

describe('the relay run hardened (read-only, no capabilities, 256 MB, uid 1000, secrets as files)', () => {
  let relay: RelayContainer
  let urls: { url: string; opsUrl: string }
  const name = resources.container(uniqueName('hardened'))

  beforeAll(async () => {
    const secrets = hostDir('secrets')
    writeKubeSecret(secrets, { demo: `${SECRET}\n` })
    relay = await runRelay({ name, volume: resources.volume(uniqueName('data')), secrets })
    urls = await ready(relay)
  })

  test('tini is PID 1, every process runs as uid 1000, and docker inspect shows every hardening setting', async () => {
    const { stdout } = await docker([
      'exec',
      name,
      'node',
      '-e',
      `const fs = require('fs')
       for (const pid of fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p))) {
         const status = fs.readFileSync('/proc/' + pid + '/status', 'utf8')
         const uid = /^Uid:\\s+(\\d+)/m.exec(status)[1]
         const cmd = fs.readFileSync('/proc/' + pid + '/cmdline', 'utf8').split('\\0').filter(Boolean).join(' ').replace(/\\s+/g, ' ')
         console.log([pid, uid, cmd].join('|'))
       }`,
    ])
    const processes = stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split('|'))
    expect(processes.find(([pid]) => pid === '1')?.[2]).toMatch(/^\/usr\/bin\/tini -- node /)
    expect(processes.some(([, , cmd]) => /dist\/cli\.js serve$/.test(cmd ?? ''))).toBe(true)
    for (const [pid, uid, cmd] of processes) expect(uid, `${pid} ${cmd}`).toBe('1000')
    expect(
      await inspect(
        name,
        '{{.HostConfig.ReadonlyRootfs}} {{.HostConfig.CapDrop}} {{.HostConfig.SecurityOpt}} {{.HostConfig.Memory}} {{.Config.User}}',
      ),
    ).toBe('true [ALL] [no-new-privileges] 268435456 1000:1000')
  })

  test('the HEALTHCHECK turns healthy', async () => {
    const health = await until(
      () => inspect(name, '{{.State.Health.Status}}'),
      (s) => s !== 'starting',
      90_000,
    )
    expect(health).toBe('healthy')
  })

  test('a signed callback from the host gets 200 ok, a forged one 401, and only the signed one is stored', async () => {
    const body = callbackBody('hardened-1')
    expect(await postCallback(urls.url, body, signature(SECRET, body))).toEqual([200, 'ok'])
    const forged = callbackBody('hardened-forged')
    expect((await postCallback(urls.url, forged, signature('not-the-key', forged)))[0]).toBe(401)
    const events = await relay.events()
    expect(events.map((e) => e.service)).toEqual(['demo'])
  })

  test('no secret in docker history or docker inspect', async () => {
    const history = await docker(['history', '--no-trunc', images().relay])
    const image = await docker(['image', 'inspect', images().relay])
    const container = await docker(['inspect', name])
    for (const text of [history.stdout, image.stdout, container.stdout]) {
      expect(text).not.toContain(SECRET)
      expect(text).not.toMatch(/TYLT_SECRET_[A-Z_]+=(?!\/run\/secrets\/)/)
    }
    // The container knows only where the key is.
    expect(container.stdout).toContain('TYLT_SECRET_DEMO_FILE=/run/secrets/tylt/demo')
    expect(await logs(name)).not.toContain(SECRET)
  })

  test('docker restart: the event is still there and the relay serves again', async () => {
    const before = await relay.events()
    expect(before).toHaveLength(1)
    await docker(['restart', name])
    urls = await ready(relay)
    expect(await relay.events()).toEqual(before)
    const body = callbackBody('hardened-2')
    expect(await postCallback(urls.url, body, signature(SECRET, body))).toEqual([200, 'ok'])
    expect(await relay.events()).toHaveLength(2)
  })
})

describe('a /data bind-mounted from a host folder owned by root', () => {
  test('the relay refuses to start and says which path, which uid and how to fix it', async () => {
    const secrets = hostDir('secrets')
    writeKubeSecret(secrets, { demo: `${SECRET}\n` })
    const data = hostDir('data')
    const name = resources.container(uniqueName('root-data'))
    await runRelay({ name, volume: '', dataMount: data, secrets })
    const exit = await until(
      () => inspect(name, '{{.State.Status}} {{.State.ExitCode}}'),
      (s) => s.startsWith('exited'),
      60_000,
    )
    expect(exit).not.toBe('exited 0')
    const output = await logs(name)
    expect(output).toContain('DATA_DIR /data is not writable')
    expect(output).toMatch(/\buid 1000\b/)
    expect(output).toContain('chown -R 1000:1000')
    // One line an operator can act on, not a stack trace.
    expect(output).not.toMatch(/^\s+at /m)
    expect(output).not.toContain(SECRET)
  })
})
