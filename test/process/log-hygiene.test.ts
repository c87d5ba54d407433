import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { fixture } from '../helpers/fixtures.js'
import { SECRETS, sign, tempDir } from '../helpers/index.js'
import { type RelayProcess, runCli, startRelay } from '../helpers/relay-process.js'

/** The fixture carries personal data echoed back by Tylt: none of it may reach a log line. */
const UPI = fixture('upi-trade.json')
const USER_DETAILS = ['Asha Verma', 'asha.verma@example.com', '1990-04-12']
const SECRET_VALUES = [SECRETS.cpg, SECRETS.upiCurrent, SECRETS.upiOlder]

/** The UPI fixture with another merchant order id, so that it is another event. */
function upiVariant(merchantOrderId: string, extra: Record<string, unknown> = {}) {
  const parsed = JSON.parse(UPI.toString('utf8')) as { data: Record<string, unknown> }
  return { ...parsed, data: { ...parsed.data, merchantOrderId, ...extra } }
}

interface Step {
  readonly url: string
  readonly body: Buffer
  readonly signature?: string
  readonly method?: string
  /** The webhook log line this request must produce; null when it is not a webhook route. */
  readonly line: { service: string; outcome: string; statusCode: number; merchantOrderId?: string } | null
}

function steps(): Step[] {
  const compact = Buffer.from(JSON.stringify(upiVariant('UPI-FALLBACK')))
  const pretty = Buffer.from(JSON.stringify(upiVariant('UPI-FALLBACK'), null, 2))
  const anyService = Buffer.from(JSON.stringify(upiVariant('UPI-ANY')))
  const big = Buffer.from(JSON.stringify(upiVariant('UPI-BIG', { pad: 'x'.repeat(8_000) })))
  const upi = (outcome: string, statusCode: number, merchantOrderId?: string) => ({
    service: 'prime-upi',
    outcome,
    statusCode,
    ...(merchantOrderId === undefined ? {} : { merchantOrderId }),
  })
  return [
    {
      url: '/webhooks/prime-upi',
      body: UPI,
      signature: sign(SECRETS.upiCurrent, UPI),
      line: upi('accepted', 200, 'UPI-3345'),
    },
    {
      url: '/webhooks/prime-upi',
      body: UPI,
      signature: sign(SECRETS.upiOlder, UPI),
      line: upi('duplicate', 200, 'UPI-3345'),
    },
    { url: '/webhooks/prime-upi', body: UPI, line: upi('invalid_signature', 401) },
    {
      url: '/webhooks/prime-upi',
      body: UPI,
      signature: sign(SECRETS.upiCurrent, UPI).slice(0, 40),
      line: upi('invalid_signature', 401),
    },
    {
      url: '/webhooks/prime-upi',
      body: UPI,
      signature: sign(SECRETS.cpg, UPI),
      line: upi('invalid_signature', 401),
    },
    {
      url: '/webhooks/nope',
      body: UPI,
      signature: sign(SECRETS.upiCurrent, UPI),
      line: { service: 'unknown', outcome: 'unknown_service', statusCode: 404 },
    },
    {
      url: '/webhooks/prime-upi',
      body: big,
      signature: sign(SECRETS.upiCurrent, big),
      line: upi('too_large', 413),
    },
    {
      url: '/webhooks/prime-upi',
      body: pretty,
      signature: sign(SECRETS.upiCurrent, compact),
      line: upi('accepted', 200, 'UPI-FALLBACK'),
    },
    {
      url: '/webhooks',
      body: anyService,
      signature: sign(SECRETS.upiOlder, anyService),
      line: upi('accepted', 200, 'UPI-ANY'),
    },
    {
      url: '/webhooks',
      body: UPI,
      signature: sign('nobody-has-this-key', UPI),
      line: { service: '*', outcome: 'invalid_signature', statusCode: 401 },
    },
    { url: '/', body: UPI, signature: sign(SECRETS.upiCurrent, UPI), line: null },
    { url: '/webhooks/prime-upi', method: 'GET', body: Buffer.alloc(0), line: null },
  ]
}

async function drive(relay: RelayProcess, list: readonly Step[]) {
  for (const step of list) {
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (step.signature !== undefined) headers['x-tlp-signature'] = step.signature
    const method = step.method ?? 'POST'
    const res = await fetch(`${relay.url}${step.url}`, {
      method,
      headers,
      ...(method === 'GET' ? {} : { body: step.body }),
    })
    await res.text()
    if (step.line !== null) expect(res.status, step.url).toBe(step.line.statusCode)
  }
}

/** Everything a process printed must be free of secrets and personal data; signatures too, unless allowed. */
function expectClean(
  where: string,
  text: string,
  signatures: readonly string[],
  allow: { signatures?: boolean; userDetails?: boolean } = {},
) {
  for (const secret of SECRET_VALUES) expect(text, `${where} prints a secret`).not.toContain(secret)
  if (!allow.userDetails) {
    for (const value of USER_DETAILS) expect(text, `${where} prints userDetails`).not.toContain(value)
  }
  if (!allow.signatures) {
    for (const signature of signatures) {
      expect(text.toLowerCase(), `${where} prints a signature`).not.toContain(signature.toLowerCase())
    }
  }
}

describe.each(['info', 'debug'])('log hygiene at LOG_LEVEL=%s', (level) => {
  it('logs one line per webhook, without secrets, signatures or userDetails, on every path', async () => {
    const dataDir = tempDir()
    const env = {
      TYLT_SECRET_CPG: SECRETS.cpg,
      TYLT_SECRET_PRIME_UPI: `${SECRETS.upiCurrent},${SECRETS.upiOlder}`,
      DATA_DIR: dataDir,
      BODY_LIMIT: '4096',
      LOG_LEVEL: level,
    }
    const relay = await startRelay(env)
    const list = steps()
    await drive(relay, list)

    // The CLI, against the same relay and store.
    const file = join(tempDir(), 'upi.json')
    const cliBody = Buffer.from(JSON.stringify(upiVariant('UPI-CLI')))
    writeFileSync(file, cliBody)
    const signed = await runCli(['sign', '--service', 'prime-upi', file], env)
    expect(signed.stdout.trim()).toBe(sign(SECRETS.upiCurrent, cliBody))
    const sent = await runCli(
      ['send', `${relay.url}/webhooks/prime-upi`, '--service', 'prime-upi', file],
      env,
    )
    expect(sent.code).toBe(0)
    expect(sent.stdout).toMatch(/^200 ok( \(accepted\))?\n$/)
    const listed = await runCli(['events', 'list'], env)
    const listedJson = await runCli(['events', 'list', '--json'], env)
    const ids = (JSON.parse(listedJson.stdout) as { id: string }[]).map((e) => e.id)
    expect(ids).toHaveLength(4)
    const shown = await runCli(['events', 'show', ids[0]!], env)
    expect(shown.code).toBe(0)
    expect(await relay.stop()).toBe(0)

    const signatures = [
      ...list.flatMap((s) => (s.signature === undefined ? [] : [s.signature])),
      sign(SECRETS.upiCurrent, cliBody),
    ]
    const serverOutput = [...relay.stdout, ...relay.stderr].join('\n')
    expectClean('the relay', serverOutput, signatures)
    expectClean('sign (stderr)', signed.stderr, signatures)
    expectClean('send', sent.stdout + sent.stderr, signatures)
    expectClean('events list', listed.stdout + listed.stderr, signatures)
    // The JSON listing and `show` are the operator's view of a stored event: they carry Tylt's original
    // signature header on purpose (it is forwarded downstream too), and `show` prints the body, which is
    // what it is for. Secrets never.
    expectClean('events list --json', listedJson.stdout + listedJson.stderr, signatures, { signatures: true })
    expectClean('events show', shown.stdout + shown.stderr, signatures, {
      signatures: true,
      userDetails: true,
    })

    // Exactly one line per webhook request, in order, with what an operator searches by.
    const lines = relay.stdout.map((l) => JSON.parse(l) as Record<string, unknown>)
    const webhookLines = lines.filter((l) => l.msg === 'webhook')
    const expected = [
      ...list.flatMap((s) => (s.line === null ? [] : [s.line])),
      { service: 'prime-upi', outcome: 'accepted', statusCode: 200, merchantOrderId: 'UPI-CLI' },
    ]
    expect(webhookLines).toHaveLength(expected.length)
    webhookLines.forEach((line, i) => {
      expect(line).toMatchObject(expected[i]!)
      if (line.statusCode === 200) expect(line.eventId).toMatch(/^evt_[0-9a-f]{32}$/)
      expect(line).not.toHaveProperty('body')
      expect(line).not.toHaveProperty('headers')
    })
    if (level === 'info') {
      // At info, a request leaves no other line than its webhook line.
      expect(lines.filter((l) => l.msg !== 'webhook' && 'reqId' in l)).toEqual([])
    }
  })
})

describe('log hygiene of a configuration error', () => {
  it('lists every problem and quotes no secret or password', async () => {
    const env = {
      TYLT_SECRET_CPG: SECRETS.cpg,
      TYLT_SECRET_BAD__NAME: 'leaky-inline-secret-31f',
      TYLT_SECRET_GONE_FILE: '/nonexistent/tylt-secret',
      PORT: 'not-a-port',
      FORWARD_URL: 'redis://:redis-password-77d@127.0.0.1:6379',
      FORWARD_SIGNING_SECRET: 'whsec_not*base64*at*all',
      DATA_DIR: tempDir(),
    }
    for (const command of [['serve'], ['sign', '--service', 'cpg', '-']]) {
      const result = await runCli(command, env, Buffer.from('{}'))
      expect(result.code, command.join(' ')).not.toBe(0)
      expect(result.stderr).toMatch(/PORT/)
      expect(result.stderr).toMatch(/TYLT_SECRET_BAD__NAME/)
      expect(result.stderr).toMatch(/TYLT_SECRET_GONE_FILE/)
      expect(result.stderr).toMatch(/FORWARD_URL/)
      const printed = result.stdout + result.stderr
      for (const secret of [
        SECRETS.cpg,
        'leaky-inline-secret-31f',
        'redis-password-77d',
        'not*base64*at*all',
      ]) {
        expect(printed).not.toContain(secret)
      }
    }
  })
})
