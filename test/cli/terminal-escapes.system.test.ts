import { execFile } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { terminalText } from '../../src/cli/terminal-text.js'
import type { RelayEvent } from '../../src/core/event.js'
import { eventId } from '../../src/event/event-id.js'
import { extractMetadata } from '../../src/event/extract-metadata.js'
import { SqliteQuarantineStore } from '../../src/quarantine/sqlite-quarantine-store.js'
import { GroupCommitStore } from '../../src/store/group-commit-store.js'
import { SECRETS, tempDir } from '../helpers/index.js'
import { CLI, inheritedEnv } from '../helpers/relay-process.js'

/** Retitles the terminal, writes the clipboard (OSC 52), rings, and moves up a line to fake an acceptance. */
const ATTACK =
  '\u001b]0;owned\u0007\u001b]52;c;cm0gLXJmIH4=\u0007\u001b[1A\r\u009b2Kq_1: accepted as evt_fake\u007f'
/** The same as a JSON string: what a body that parses holds once decoded. */
const body = Buffer.concat([
  Buffer.from(
    `{"data":{"orderId":"o-1","merchantOrderId":${JSON.stringify(ATTACK)},"note":${JSON.stringify(ATTACK)}}}`,
  ),
])
/** Raw control bytes, a lone 0x9b among them: not UTF-8, not JSON. */
const rawBody = Buffer.concat([Buffer.from(ATTACK, 'utf8'), Buffer.from([0x9b, 0x1b, 0x5b, 0x32, 0x4a])])
/** A header value as Node reads it (latin1): the 0x9b byte becomes U+009B. */
const header = Buffer.from([0x1b, 0x5d, 0x30, 0x3b, 0x78, 0x07, 0x9b, 0x31, 0x41]).toString('latin1')

/** Runs the CLI and returns its stdout as bytes, exactly as a terminal would receive them. */
function run(args: readonly string[], env: Record<string, string>) {
  return new Promise<{ code: number; stdout: Buffer; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      // In the data folder: a .env in the checkout (the README's) is not this test's configuration.
      { env: { ...inheritedEnv(), ...env }, cwd: env.DATA_DIR, encoding: 'buffer', timeout: 30_000 },
      (err, stdout, stderr) =>
        resolve({ code: err === null ? 0 : Number(err.code ?? -1), stdout, stderr: stderr.toString() }),
    )
  })
}

/** Every byte: no C0 but newline and tab, no DEL, valid UTF-8, and no C1 once decoded. */
function expectNoControl(stdout: Buffer, what: string) {
  const bad = [...stdout.entries()].filter(([, b]) => (b < 0x20 && b !== 0x0a && b !== 0x09) || b === 0x7f)
  expect(
    bad,
    `${what}: control bytes at ${bad.map(([i, b]) => `${i}:0x${b.toString(16)}`).join(' ')}`,
  ).toEqual([])
  const text = new TextDecoder('utf-8', { fatal: true }).decode(stdout)
  const c1 = [...text].filter((c) => c.charCodeAt(0) >= 0x80 && c.charCodeAt(0) <= 0x9f)
  expect(c1, `${what}: C1 characters`).toEqual([])
}

async function storesWithAttack() {
  const dataDir = tempDir()
  const quarantine = new SqliteQuarantineStore(dataDir)
  const request = (id: string, requestBody: Buffer, service: string) => ({
    id,
    receivedAt: Date.UTC(2026, 11, 1, 8),
    reason: 'unknown_service' as const,
    path: `/webhooks/${service}`,
    service,
    sourceAddress: '203.0.113.7',
    signature: header,
    contentType: header,
    userAgent: header,
    body: requestBody,
    fromVerifiedSource: false,
  })
  await quarantine.add([request('q_json', body, `typo${ATTACK}`), request('q_raw', rawBody, header)])
  await quarantine.close()
  const events = new GroupCommitStore(dataDir)
  const event = (b: Buffer): RelayEvent => ({
    id: eventId('cpg', b),
    service: 'cpg',
    acceptedAt: Date.UTC(2026, 11, 1, 8),
    signature: 'ab'.repeat(32),
    body: b,
    recovered: null,
    ...extractMetadata(b),
  })
  const [json, raw] = [event(body), event(rawBody)]
  await events.append(json)
  await events.append(raw)
  await events.close()
  return { env: { DATA_DIR: dataDir, TYLT_SECRET_CPG: SECRETS.cpg }, json, raw }
}

describe('commands that print request-controlled text never send a control character to the terminal', () => {
  it('quarantine show and list, events show and list, verify: ESC, OSC 52, BEL, DEL and 0x9b escaped', async () => {
    const { env, json, raw } = await storesWithAttack()
    expect(json.merchantOrderId).toBe(ATTACK)
    const commands = [
      ['quarantine', 'list'],
      ['quarantine', 'show', 'q_json'],
      ['quarantine', 'show', 'q_json', '--body'],
      ['quarantine', 'show', 'q_json', '--body', '--unmasked'],
      ['quarantine', 'show', 'q_raw', '--body', '--unmasked'],
      ['quarantine', 'show', 'q_json', '--body', '--unmasked', '--json'],
      ['events', 'list'],
      ['events', 'list', '--json'],
      ['events', 'show', json.id, '--body'],
      ['events', 'show', json.id, '--body', '--unmasked'],
      ['events', 'show', raw.id, '--body', '--unmasked'],
      ['events', 'show', json.id, '--body', '--unmasked', '--json'],
      ['verify', '--quarantined', 'q_json'],
      ['verify', '--quarantined', 'q_raw'],
    ]
    for (const args of commands) {
      const result = await run(args, env)
      expect(result.stderr, args.join(' ')).toBe('')
      expectNoControl(result.stdout, args.join(' '))
    }
    // Escaped, not dropped: the operator still sees what was sent.
    const shown = (await run(['quarantine', 'show', 'q_json', '--body', '--unmasked'], env)).stdout.toString()
    expect(shown).toContain('userAgent: \\u001b]0;x\\u0007\\u009b1A')
    expect(shown).toContain('\\u001b]52;c;cm0gLXJmIH4=\\u0007')
    const verified = (await run(['verify', '--quarantined', 'q_json'], env)).stdout.toString()
    expect(verified).toBe(`not verified: service ${terminalText(`typo${ATTACK}`)} is not configured\n`)
    // --json stays JSON and reads back to the very text.
    const asJson = (await run(['events', 'show', json.id, '--body', '--unmasked', '--json'], env)).stdout
    expect(JSON.parse(asJson.toString())).toMatchObject({ merchantOrderId: ATTACK, body: body.toString() })
  }, 120_000)
})
