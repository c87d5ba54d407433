import { linkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DEMO_SECRET } from '../../src/constants.js'
import { eventually, SECRETS, sample, sign, sleep, tempDir } from '../helpers/index.js'
import { listEvents, startRelay } from '../helpers/relay-process.js'

const OLD = 'tylt-key-2025-old-71c0'
const NEW = 'tylt-key-2026-new-5a2e'
const NEWER = 'tylt-key-2026-newer-e913'

describe('secret rotation in a running relay (TYLT_SECRET_X_FILE)', () => {
  it('takes a new key from the file and from SIGHUP, and counts matches of the older key', async () => {
    const secrets = tempDir()
    const file = join(secrets, 'x')
    writeFileSync(file, `${OLD}\n`)
    const env = { TYLT_SECRET_X_FILE: file, DATA_DIR: tempDir(), LOG_LEVEL: 'info' }
    const relay = await startRelay(env)
    let n = 0
    const send = async (secret: string) => {
      const body = Buffer.from(JSON.stringify({ type: 'pay-in', data: { orderId: `rot-${n++}` } }))
      const res = await fetch(`${relay.url}/webhooks/x`, {
        method: 'POST',
        headers: { 'x-tlp-signature': sign(secret, body) },
        body,
      })
      return res.status
    }
    const older = async () =>
      sample(await relay.metrics(), 'tylt_relay_secret_matches_total', { service: 'x', slot: 'older' }) ?? 0

    expect(await send(OLD)).toBe(200)
    expect(await send(NEW)).toBe(401)

    // Step 1 of a rotation: the new key is added first (current), the old one kept while Tylt switches.
    const written = Date.now()
    writeFileSync(file, `${NEW}\n${OLD}\n`)
    await eventually(
      () => send(NEW),
      (status) => status === 200,
      5_000,
    )
    expect(Date.now() - written).toBeLessThan(5_000)
    expect(await older()).toBe(0)
    expect(await send(OLD)).toBe(200)
    expect(await older()).toBe(1)
    expect(await send(NEW)).toBe(200)
    expect(await older()).toBe(1)

    // SIGHUP alone: the file changes through a hard link in another folder, which the folder watch cannot see.
    const elsewhere = join(tempDir(), 'x-link')
    linkSync(file, elsewhere)
    writeFileSync(elsewhere, `${NEWER}\n`)
    await sleep(1_000)
    expect(await send(NEWER)).toBe(401)
    relay.child.kill('SIGHUP')
    await eventually(
      () => send(NEWER),
      (status) => status === 200,
      5_000,
    )
    // The rotation is over: the keys that were removed no longer verify anything.
    expect(await send(OLD)).toBe(401)
    expect(await send(NEW)).toBe(401)
    expect(relay.child.exitCode).toBeNull()

    // Only what got 200 was stored: 1 + 1 + 2 + 1 accepted, whatever else was tried.
    expect(await listEvents(env)).toHaveLength(5)
    const log = [...relay.stdout, ...relay.stderr].join('\n')
    for (const secret of [OLD, NEW, NEWER]) expect(log).not.toContain(secret)
    expect(relay.stdout.filter((l) => l.includes('"secrets reloaded"'))).toHaveLength(2)
  })

  it('refuses a file that now holds the public demo secret beside another service, as at start: the old key stays', async () => {
    const secrets = tempDir()
    const file = join(secrets, 'demo')
    writeFileSync(file, `${OLD}\n`)
    const env = { TYLT_SECRET_DEMO_FILE: file, TYLT_SECRET_CPG: SECRETS.cpg, DATA_DIR: tempDir() }
    const relay = await startRelay(env)
    const send = async (secret: string) => {
      const body = Buffer.from(JSON.stringify({ type: 'pay-in', data: { orderId: `demo-${secret}` } }))
      const res = await fetch(`${relay.url}/webhooks/demo`, {
        method: 'POST',
        headers: { 'x-tlp-signature': sign(secret, body) },
        body,
      })
      return res.status
    }
    // Through a hard link in another folder, which the folder watch cannot see: SIGHUP alone reloads it.
    const elsewhere = join(tempDir(), 'demo-link')
    linkSync(file, elsewhere)
    writeFileSync(elsewhere, `${DEMO_SECRET}\n${OLD}\n`)
    relay.child.kill('SIGHUP')
    const refused = await eventually(
      async () => relay.stdout.filter((l) => l.includes('"secret file not reloaded')),
      (lines) => lines.length > 0,
      5_000,
    )
    expect(refused).toHaveLength(1)
    expect(JSON.parse(refused[0]!)).toMatchObject({
      level: 50,
      service: 'demo',
      error:
        'TYLT_SECRET_DEMO_FILE: holds the public demo secret of .env.example while other services are configured (cpg); remove it or use the secret key from the Tylt dashboard',
    })
    expect(await send(DEMO_SECRET)).toBe(401)
    expect(await send(OLD)).toBe(200)
    expect(relay.child.exitCode).toBeNull()
    expect(relay.stdout.filter((l) => l.includes('"secrets reloaded"'))).toEqual([])
    const log = relay.output()
    for (const secret of [DEMO_SECRET, OLD, SECRETS.cpg]) expect(log).not.toContain(secret)
  })
})
