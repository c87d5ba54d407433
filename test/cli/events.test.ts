import { describe, expect, it } from 'vitest'
import { MASK, maskPersonalData } from '../../src/console/mask-personal-data.js'
import type { RelayEvent } from '../../src/core/event.js'
import { eventId } from '../../src/event/event-id.js'
import { extractMetadata } from '../../src/event/extract-metadata.js'
import { GroupCommitStore } from '../../src/store/group-commit-store.js'
import { fixture } from '../helpers/fixtures.js'
import { SECRETS, tempDir } from '../helpers/index.js'
import { runCli } from '../helpers/relay-process.js'

const T0 = Date.parse('2026-11-20T10:00:00Z')
const MINUTE = 60_000

/** A store holding three events with known times, states and attempts, as a relay would have left it. */
async function storeWithHistory() {
  const dataDir = tempDir()
  const store = new GroupCommitStore(dataDir)
  const event = (service: string, name: string, minutes: number): RelayEvent => {
    const body = fixture(name)
    return {
      id: eventId(service, body),
      service,
      acceptedAt: T0 + minutes * MINUTE,
      signature: 'ab'.repeat(32),
      body,
      recovered: null,
      ...extractMetadata(body),
    }
  }
  const cpg = event('cpg', 'cpg-pay-in.json', 0)
  const upi = event('prime-upi', 'upi-early.json', 30)
  const eu = event('eu', 'eu-pay-in.json', 60)
  for (const e of [cpg, upi, eu]) await store.append(e)
  const seq = async (id: string) => (await store.get(id))!.seq
  await store.recordFailure(await seq(cpg.id), T0 + 1_000, 'redis://127.0.0.1:6390', 'connect ECONNREFUSED')
  await store.recordFailure(await seq(cpg.id), T0 + 3_000, 'redis://127.0.0.1:6390', 'connect ECONNREFUSED')
  await store.markDelivered([await seq(cpg.id)], T0 + 7_000, 'redis://127.0.0.1:6390', [
    { durationMs: 4, status: null, answer: '1763632807000-0' },
  ])
  await store.markRefused(await seq(eu.id), T0 + 61 * MINUTE, 'http://127.0.0.1:8080/', 'HTTP 400')
  await store.close()
  return { env: { DATA_DIR: dataDir }, cpg, upi, eu }
}

describe('tylt-relay events list', () => {
  it('prints a header row and a row per event, newest first, with where each was delivered', async () => {
    const { env, cpg, upi, eu } = await storeWithHistory()
    const { code, stdout, stderr } = await runCli(['events', 'list'], env)
    expect([code, stderr]).toEqual([0, ''])
    // No downstream is configured: only the delivered event has one.
    expect(stdout.split('\n')).toEqual([
      'ACCEPTED              ID                                    SERVICE    STATE      PRODUCT          STATUS     FINAL    MERCHANT ORDER  ATTEMPTS  DOWNSTREAM',
      `2026-11-20T11:00:00Z  ${eu.id}  eu         dead       eu-open-banking  4          unknown  EU-9001         1         -`,
      `2026-11-20T10:30:00Z  ${upi.id}  prime-upi  pending    upi              -          false    UPI-7001        0         -`,
      `2026-11-20T10:00:00Z  ${cpg.id}  cpg        delivered  cpg-pay-in       Completed  true     ORD-10042       3         redis://127.0.0.1:6390`,
      '',
    ])
  })

  it('names the downstream of pending and dead events from the configuration: its own, or FORWARD_URL', async () => {
    const { env, cpg, upi, eu } = await storeWithHistory()
    const configured = {
      ...env,
      TYLT_SECRET_CPG: SECRETS.cpg,
      TYLT_SECRET_PRIME_UPI: SECRETS.upiCurrent,
      TYLT_SECRET_EU: 'eu-secret-9d0e4f1a',
      FORWARD_URL: 'redis://app:topsecret@127.0.0.1:6379?stream=tylt',
      FORWARD_URL_PRIME_UPI: 'http://127.0.0.1:8080/staging',
    }
    const { code, stdout, stderr } = await runCli(['events', 'list'], configured)
    expect([code, stderr]).toEqual([0, ''])
    // The delivered event keeps the downstream that confirmed it; the others show where they are going.
    expect(stdout.split('\n')).toEqual([
      'ACCEPTED              ID                                    SERVICE    STATE      PRODUCT          STATUS     FINAL    MERCHANT ORDER  ATTEMPTS  DOWNSTREAM',
      `2026-11-20T11:00:00Z  ${eu.id}  eu         dead       eu-open-banking  4          unknown  EU-9001         1         redis://app:***@127.0.0.1:6379?stream=tylt`,
      `2026-11-20T10:30:00Z  ${upi.id}  prime-upi  pending    upi              -          false    UPI-7001        0         http://127.0.0.1:8080/staging`,
      `2026-11-20T10:00:00Z  ${cpg.id}  cpg        delivered  cpg-pay-in       Completed  true     ORD-10042       3         redis://127.0.0.1:6390`,
      '',
    ])
    const listed = JSON.parse((await runCli(['events', 'list', '--json'], configured)).stdout) as {
      id: string
      downstream: string | null
      deliveredTo: string | null
    }[]
    expect(listed.map((e) => [e.id, e.downstream, e.deliveredTo])).toEqual([
      [eu.id, 'redis://app:***@127.0.0.1:6379?stream=tylt', null],
      [upi.id, 'http://127.0.0.1:8080/staging', null],
      [cpg.id, 'redis://127.0.0.1:6390', 'redis://127.0.0.1:6390'],
    ])
    expect(stdout).not.toContain('topsecret')
  })

  it.each([
    [['--service', 'prime-upi'], ['upi']],
    [['--state', 'delivered'], ['cpg']],
    [['--status', 'Completed'], ['cpg']],
    [['--order', 'inst_7001'], ['upi']], // Tylt's id
    [['--order', 'ORD-10042'], ['cpg']], // the merchant's
    [['--product', 'eu-open-banking'], ['eu']],
    [
      ['--since', '2026-11-20T10:15:00Z'],
      ['eu', 'upi'],
    ],
    [
      ['--limit', '2'],
      ['eu', 'upi'],
    ],
    [['--service', 'cpg', '--state', 'pending'], []],
  ])('filters %j', async (filters, expected) => {
    const stored = await storeWithHistory()
    const { code, stdout } = await runCli(['events', 'list', '--json', ...filters], stored.env)
    expect(code).toBe(0)
    const ids = (JSON.parse(stdout) as { id: string }[]).map((e) => e.id)
    expect(ids).toEqual(expected.map((name) => stored[name as 'cpg' | 'upi' | 'eu'].id))
  })

  it('--since takes a duration back from now', async () => {
    const { env } = await storeWithHistory()
    expect((await runCli(['events', 'list', '--since', '2h'], env)).stdout).toBe('no events\n')
    const all = await runCli(['events', 'list', '--since', '100000d', '--json'], env)
    expect(JSON.parse(all.stdout)).toHaveLength(3)
  })

  it('--json carries every field but the body', async () => {
    const { env, cpg } = await storeWithHistory()
    const [first] = JSON.parse(
      (await runCli(['events', 'list', '--json', '--state', 'delivered'], env)).stdout,
    )
    expect(first).toMatchObject({
      id: cpg.id,
      product: 'cpg-pay-in',
      final: 'true',
      deliveredTo: 'redis://127.0.0.1:6390',
    })
    expect(first).not.toHaveProperty('body')
  })
})

describe('tylt-relay events list filters', () => {
  it('--status in any case, or a label for a numeric state; --order by the start of an id, in any case', async () => {
    const dataDir = tempDir()
    const store = new GroupCommitStore(dataDir)
    const events = ['cpg-pay-in.json', 'upi-trade.json', 'eu-pay-in.json', 'cpg-payout.json'].map(
      (name, i) => {
        const body = fixture(name)
        return {
          id: eventId('cpg', body),
          service: 'cpg',
          acceptedAt: T0 + i * MINUTE,
          signature: 'ab'.repeat(32),
          body,
          recovered: null,
          ...extractMetadata(body),
        }
      },
    )
    for (const e of events) await store.append(e)
    await store.close()
    const [cpg, upi, , payout] = events
    const list = async (...args: string[]) => {
      const { code, stdout, stderr } = await runCli(['events', 'list', '--json', ...args], {
        DATA_DIR: dataDir,
      })
      expect([code, stderr]).toEqual([0, ''])
      return (JSON.parse(stdout) as { id: string }[]).map((e) => e.id)
    }
    // UPI's 4 is completed; EU Open Banking's 4 is not.
    expect(await list('--status', 'completed')).toEqual([upi!.id, cpg!.id])
    expect(await list('--status', 'PENDING')).toEqual([payout!.id])
    expect(await list('--order', cpg!.merchantOrderId!.toLowerCase())).toEqual([cpg!.id])
    expect(await list('--order', cpg!.merchantOrderId!.slice(0, -1).toLowerCase())).toContain(cpg!.id)
    expect(await list('--order', cpg!.orderId!.slice(0, 6).toUpperCase())).toContain(cpg!.id)
  })
})

describe('tylt-relay events show', () => {
  it('prints the attempt history, and the body only with --body', async () => {
    const { env, cpg } = await storeWithHistory()
    const shown = await runCli(['events', 'show', cpg.id], env)
    expect(shown.code).toBe(0)
    const lines = shown.stdout.split('\n')
    expect(lines).toContain('deliveredTo: redis://127.0.0.1:6390')
    expect(lines).toContain('deliveredAt: 2026-11-20T10:00:07Z')
    const at = lines.indexOf('attempts:')
    expect(lines.slice(at, at + 5)).toEqual([
      'attempts:',
      '  TIME                  DOWNSTREAM              OUTCOME    DURATION  ANSWER           ERROR',
      '  2026-11-20T10:00:01Z  redis://127.0.0.1:6390  failed     -         -                connect ECONNREFUSED',
      '  2026-11-20T10:00:03Z  redis://127.0.0.1:6390  failed     -         -                connect ECONNREFUSED',
      '  2026-11-20T10:00:07Z  redis://127.0.0.1:6390  delivered  4 ms      1763632807000-0  -',
    ])
    expect(lines.at(-2)).toBe(
      `body: ${cpg.body.length} bytes, not shown (it may hold personal data); add --body to print it`,
    )
    expect(shown.stdout).not.toContain('ORD-10042","baseAmount')

    const withBody = await runCli(['events', 'show', cpg.id, '--body'], env)
    const masked = await maskPersonalData(cpg.body)
    expect(masked.masked).toBeGreaterThan(0)
    expect(
      withBody.stdout.endsWith(
        `body (${masked.masked} value(s) that may be personal data masked; add --unmasked to print it as received):\n${masked.text}\n`,
      ),
    ).toBe(true)
    const unmasked = await runCli(['events', 'show', cpg.id, '--body', '--unmasked'], env)
    expect(unmasked.stdout.endsWith(`body (utf8):\n${cpg.body.toString()}\n`)).toBe(true)
    expect(await runCli(['events', 'show', cpg.id, '--unmasked'], env)).toMatchObject({
      code: 2,
      stdout: '',
      stderr: expect.stringContaining('--unmasked goes with --body'),
    })
  })

  it('says when no attempt failed, and shows a refusal', async () => {
    const { env, upi, eu } = await storeWithHistory()
    expect((await runCli(['events', 'show', upi.id], env)).stdout).toContain('\nattempts: none yet\n')
    expect((await runCli(['events', 'show', eu.id], env)).stdout).toContain(
      '  2026-11-20T11:01:00Z  http://127.0.0.1:8080/  refused  -         -       HTTP 400\n',
    )
  })

  it('--json holds the attempt history; the body (personal data) only with --body', async () => {
    const { env, upi } = await storeWithHistory()
    const plain = JSON.parse((await runCli(['events', 'show', upi.id, '--json'], env)).stdout)
    expect(plain).toMatchObject({ id: upi.id, attemptHistory: [] })
    expect(plain).not.toHaveProperty('body')
    expect(JSON.stringify(plain)).not.toContain('ravi.menon@example.com')
    const masked = JSON.parse((await runCli(['events', 'show', upi.id, '--json', '--body'], env)).stdout)
    expect(masked).toMatchObject({ encoding: 'masked', masked: 1 })
    expect(JSON.parse(masked.body).data.userDetails).toBe(MASK)
    expect(JSON.stringify(masked)).not.toContain('ravi.menon@example.com')
    const full = JSON.parse(
      (await runCli(['events', 'show', upi.id, '--json', '--body', '--unmasked'], env)).stdout,
    )
    expect(full).toMatchObject({ encoding: 'utf8', body: upi.body.toString() })
  })
})
