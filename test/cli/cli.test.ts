import { createHmac } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { fixture } from '../helpers/fixtures.js'
import { SECRETS, sign, tempDir } from '../helpers/index.js'
import { post, runCli, startRelay } from '../helpers/relay-process.js'

const env = (dataDir = tempDir()) => ({
  TYLT_SECRET_CPG: SECRETS.cpg,
  TYLT_SECRET_PRIME_UPI: SECRETS.upiCurrent,
  DATA_DIR: dataDir,
})

describe('tylt-relay sign', () => {
  it('prints the hex HMAC of stdin with the service secret', async () => {
    const body = fixture('cpg-pay-in.json')
    const result = await runCli(['sign', '--service', 'cpg'], env(), body)
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(`${createHmac('sha256', SECRETS.cpg).update(body).digest('hex')}\n`)
    expect(result.stdout + result.stderr).not.toContain(SECRETS.cpg)
  })

  it('signs a FILE byte for byte', async () => {
    const file = join(tempDir(), 'body.json')
    writeFileSync(file, fixture('upi-trade.json'))
    const result = await runCli(['sign', '--service', 'prime-upi', file], env())
    expect(result.stdout.trim()).toBe(sign(SECRETS.upiCurrent, fixture('upi-trade.json')))
  })

  it('refuses an unknown service, naming the configured ones', async () => {
    const result = await runCli(['sign', '--service', 'nope'], env(), 'x')
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(
      'tylt-relay: unknown service "nope"; configured: cpg, prime-upi\nrun "tylt-relay sign --help" for its usage\n',
    )
  })

  it('takes no secret from the command line', async () => {
    const result = await runCli(['sign', '--service', 'cpg', '--secret', 'abc'], env(), 'x')
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(
      'tylt-relay: unknown option --secret\nrun "tylt-relay sign --help" for its usage\n',
    )
  })
})

describe('tylt-relay send and events, against a running relay', () => {
  it('send gets ok for the built-in samples and a FILE; events list shows them and nothing refused', async () => {
    const dataDir = tempDir()
    const relay = await startRelay(env(dataDir))
    for (const args of [
      ['--sample', 'cpg'],
      ['--sample', 'upi'],
    ]) {
      const sent = await runCli(
        ['send', `${relay.url}/webhooks/cpg`, '--service', 'cpg', ...args],
        env(dataDir),
      )
      expect(sent.code).toBe(0)
      expect(sent.stdout).toMatch(/^200 ok( \(accepted\))?\n$/)
    }
    const file = join(tempDir(), 'eu.json')
    writeFileSync(file, fixture('eu-open-banking.json'))
    const sent = await runCli(
      ['send', `${relay.url}/webhooks/prime-upi`, '--service', 'prime-upi', file],
      env(dataDir),
    )
    expect(sent.code).toBe(0)
    expect(sent.stdout).toMatch(/^200 ok( \(accepted\))?\n$/)
    // Refused: forged, and signed for another service.
    const forged = fixture('india-payout.json')
    expect((await post(`${relay.url}/webhooks/cpg`, forged, sign('forged', forged))).status).toBe(401)
    expect((await post(`${relay.url}/webhooks/cpg`, forged, sign(SECRETS.upiCurrent, forged))).status).toBe(
      401,
    )

    const list = await runCli(['events', 'list', '--json'], env(dataDir))
    expect(list.code).toBe(0)
    const events = JSON.parse(list.stdout) as {
      id: string
      service: string
      merchantOrderId: string
      state: string
    }[]
    expect(events.map((e) => [e.service, e.state])).toEqual([
      ['prime-upi', 'stored'],
      ['cpg', 'stored'],
      ['cpg', 'stored'],
    ])
    expect(events.map((e) => e.merchantOrderId)).toEqual([
      'EU-2020',
      expect.stringMatching(/^upi-\d{6}$/),
      expect.stringMatching(/^order-\d{6}$/),
    ])
    expect(list.stdout).not.toContain('INRP-5')

    const table = await runCli(['events', 'list', '--state', 'stored'], env(dataDir))
    expect(table.stdout.trim().split('\n')).toHaveLength(4) // a header row and three events
    expect((await runCli(['events', 'list', '--state', 'dead'], env(dataDir))).stdout).toBe('no events\n')

    const shown = await runCli(['events', 'show', events[0]!.id, '--body'], env(dataDir))
    expect(shown.code).toBe(0)
    expect(shown.stdout).toContain(`id: ${events[0]!.id}`)
    expect(shown.stdout).toContain(
      `"merchantOrderId": "${JSON.parse(fixture('eu-open-banking.json').toString()).merchantOrderId}"`,
    )
    const unmasked = await runCli(['events', 'show', events[0]!.id, '--body', '--unmasked'], env(dataDir))
    expect(unmasked.stdout).toContain(fixture('eu-open-banking.json').toString())
    expect(await relay.stop()).toBe(0)
  })

  it('events show and replay name an unknown id and change nothing', async () => {
    const dataDir = tempDir()
    const relay = await startRelay(env(dataDir))
    expect((await runCli(['send', `${relay.url}/webhooks/cpg`, '--service', 'cpg'], env(dataDir))).code).toBe(
      0,
    )
    expect(await runCli(['events', 'show', 'evt_missing'], env(dataDir))).toMatchObject({
      code: 1,
      stderr: 'tylt-relay: no event with id evt_missing\n',
    })
    const replay = await runCli(['events', 'replay', 'evt_missing'], env(dataDir))
    expect(replay.code).toBe(1)
    expect(replay.stderr).toContain('nothing was queued')
    expect(await relay.stop()).toBe(0)
  })

  it('send prints the refusal and exits non-zero when the relay does not accept', async () => {
    const relay = await startRelay({ TYLT_SECRET_CPG: 'the-relay-has-another-secret', DATA_DIR: tempDir() })
    const sent = await runCli(['send', `${relay.url}/webhooks/cpg`, '--service', 'cpg'], env())
    expect([sent.code, sent.stdout]).toEqual([1, '401 invalid signature\n'])
  })
})

describe('configuration errors', () => {
  it.each([
    ['no secret', {}, 'no service is configured'],
    [
      'an unreadable secret file',
      { TYLT_SECRET_CPG_FILE: '/nonexistent/secret' },
      'TYLT_SECRET_CPG_FILE: cannot read the secret file it names (ENOENT)',
    ],
    [
      'a malformed number',
      { TYLT_SECRET_CPG: 'cli-test-secret-0b1c', PORT: '80a' },
      'PORT must be a whole number',
    ],
    [
      'a malformed duration',
      { TYLT_SECRET_CPG: 'cli-test-secret-0b1c', DEDUP_WINDOW: '3 days' },
      'DEDUP_WINDOW must be a duration',
    ],
    [
      'a bad FORWARD_URL',
      { TYLT_SECRET_CPG: 'cli-test-secret-0b1c', FORWARD_URL: 'redis://127.0.0.1:6379' },
      'FORWARD_URL',
    ],
  ])('%s: one clear message, no stack trace, non-zero exit', async (_name, variables, message) => {
    const result = await runCli(['serve'], { DATA_DIR: tempDir(), ...variables })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('tylt-relay: invalid configuration:')
    expect(result.stderr).toContain(message)
    expect(result.stderr).not.toMatch(/\n\s+at /)
    expect(result.stdout).toBe('')
  })

  it('reads a .env file in the working directory, the environment taking precedence', async () => {
    const dir = tempDir()
    writeFileSync(
      join(dir, '.env'),
      `TYLT_SECRET_CPG=${SECRETS.cpg}\nDATA_DIR=${join(dir, 'data')}\nLOG_LEVEL=warn\n`,
    )
    const relay = await startRelay({ LOG_LEVEL: 'info' }, { cwd: dir })
    const body = fixture('cpg-pay-in.json')
    expect(await post(`${relay.url}/webhooks/cpg`, body, sign(SECRETS.cpg, body))).toEqual({
      status: 200,
      body: 'ok',
    })
    expect(await relay.stop()).toBe(0)
    expect(relay.output()).toContain('"msg":"webhook"')
  })
})
