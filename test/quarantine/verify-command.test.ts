import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { fixture } from '../helpers/fixtures.js'
import { SECRETS, sign, tempDir } from '../helpers/index.js'
import { runCli } from '../helpers/relay-process.js'

const env = (extra: Record<string, string> = {}) => ({
  TYLT_SECRET_CPG: SECRETS.cpg,
  TYLT_SECRET_PRIME_UPI: `${SECRETS.upiCurrent},${SECRETS.upiOlder}`,
  DATA_DIR: tempDir(),
  ...extra,
})

const body = fixture('cpg-pay-in.json')
const pretty = fixture('cpg-pay-in-pretty.json')
const compact = Buffer.from(JSON.stringify(JSON.parse(pretty.toString('utf8'))))

async function verify(args: string[], input?: Buffer, extra?: Record<string, string>) {
  const result = await runCli(['verify', ...args], env(extra), input)
  for (const secret of Object.values(SECRETS)) expect(result.stdout + result.stderr).not.toContain(secret)
  return result
}

describe('tylt-relay verify: what a user sees', () => {
  it('a genuine body: the service, the current secret, raw bytes; exit 0', async () => {
    const file = join(tempDir(), 'callback.json')
    writeFileSync(file, body)
    const result = await verify(['--signature', sign(SECRETS.cpg, body), file])
    expect(result).toEqual({
      code: 0,
      stdout: 'verified: service cpg, current secret, raw bytes\n',
      stderr: '',
    })
  })

  it('a body signed with a secret the relay does not have: not verified, the services tried; exit 1', async () => {
    const result = await verify(['--signature', sign('rotated-in-the-dashboard', body), '-'], body)
    expect(result).toEqual({
      code: 1,
      stdout: 'not verified: the signature matches no secret configured for cpg, prime-upi\n',
      stderr: '',
    })
    const one = await verify(
      ['--service', 'cpg', '--signature', sign('rotated-in-the-dashboard', body)],
      body,
    )
    expect(one.stdout).toBe('not verified: the signature matches no secret configured for cpg\n')
  })

  it('a body signed with an older secret still accepted: which one, by its place in the list', async () => {
    const result = await verify(['--signature', sign(SECRETS.upiOlder, body)], body)
    expect(result).toEqual({
      code: 0,
      stdout: 'verified: service prime-upi, older secret 1, raw bytes\n',
      stderr: '',
    })
  })

  it('a pretty-printed body signed over its compact JSON: the fallback, and what the relay stores', async () => {
    const result = await verify(['--signature', sign(SECRETS.cpg, compact)], pretty)
    expect(result).toEqual({
      code: 0,
      stdout:
        'verified: service cpg, current secret, JSON fallback\n' +
        `only the re-serialised body matches (${compact.length} bytes of JSON.stringify, not the ${pretty.length} bytes given): the relay stores and forwards the re-serialised bytes\n`,
      stderr: '',
    })
    const off = await verify(['--signature', sign(SECRETS.cpg, compact)], pretty, {
      SIGNATURE_JSON_FALLBACK: 'false',
    })
    expect(off).toEqual({
      code: 1,
      stdout:
        'not verified: the signature matches no secret configured for cpg, prime-upi\n' +
        'it would verify over the re-serialised body (JSON fallback), which SIGNATURE_JSON_FALLBACK=false turns off\n',
      stderr: '',
    })
  })

  it('a signature that is not 64 hex digits says so', async () => {
    const result = await verify(['--signature', 'xyz'], body)
    expect(result).toEqual({
      code: 1,
      stdout: 'not verified: the signature is not 64 hex digits\n',
      stderr: '',
    })
  })

  it('needs exactly one of --signature and --quarantined (usage, exit 2)', async () => {
    const none = await verify([], body)
    expect(none.code).toBe(2)
    expect(none.stderr).toContain(
      'tylt-relay: verify needs --signature HEX (with a FILE or -) or --quarantined ID',
    )
    expect(none.stdout).toBe('')
  })
})
