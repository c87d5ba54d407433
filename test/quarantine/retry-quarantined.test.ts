import { describe, expect, it, onTestFinished } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import { eventId } from '../../src/event/event-id.js'
import { retryQuarantined } from '../../src/quarantine/retry-quarantined.js'
import { GroupCommitStore } from '../../src/store/group-commit-store.js'
import { fixture } from '../helpers/fixtures.js'
import { SECRETS, sign, tempDir, testEnv } from '../helpers/index.js'
import { quarantineStore, refusedRequest } from './helpers.js'

const NEW_CPG = 'cpg-secret-rotated-4c1e'

function setup(env: Record<string, string | undefined> = {}) {
  const dataDir = tempDir()
  const events = new GroupCommitStore(dataDir)
  onTestFinished(() => events.close())
  const quarantine = quarantineStore(dataDir, 5_000)
  const secrets = loadConfig(testEnv({ DATA_DIR: dataDir, ...env }))
  return { events, quarantine, secrets }
}

const body = fixture('cpg-pay-in.json')

describe('retryQuarantined', () => {
  it('accepts what verifies now, as if it had arrived then, and takes it out of quarantine', async () => {
    const { events, quarantine, secrets } = setup({ TYLT_SECRET_CPG: `${NEW_CPG},${SECRETS.cpg}` })
    const receivedAt = Date.now() - 3_600_000
    await quarantine.add([
      { id: 'q_1', ...refusedRequest({ receivedAt, body, signature: ` ${sign(NEW_CPG, body)} ` }) },
    ])
    const now = Date.now()
    const [outcome] = await retryQuarantined(quarantine, events, secrets, ['q_1'], now)
    expect(outcome).toMatchObject({ id: 'q_1', outcome: 'accepted', slot: 0, fallback: false })
    const stored = await events.get(eventId('cpg', body))
    expect(stored).toMatchObject({
      service: 'cpg',
      acceptedAt: receivedAt,
      recovered: 'quarantine',
      state: 'pending',
      signature: sign(NEW_CPG, body),
      merchantOrderId: 'ORD-10042',
      retrySince: now,
    })
    expect(stored?.body.equals(body)).toBe(true)
    expect(await quarantine.stats()).toEqual({ count: 0, bytes: 0 })
    // Gone: a second retry does nothing.
    expect(await retryQuarantined(quarantine, events, secrets, ['q_1'], now)).toEqual([
      { id: 'q_1', outcome: 'missing' },
    ])
    expect(await events.list({ limit: 10 })).toHaveLength(1)
  })

  it('what does not verify now stays, with its reason; nothing reaches the events', async () => {
    const { events, quarantine, secrets } = setup()
    await quarantine.add([
      { id: 'q_bad', ...refusedRequest({ body, signature: sign('still-wrong', body) }) },
      { id: 'q_none', ...refusedRequest({ body, signature: null, reason: 'missing' }) },
      {
        id: 'q_404',
        ...refusedRequest({ body, service: 'later', reason: 'unknown_service', signature: sign('x', body) }),
      },
    ])
    const outcomes = await retryQuarantined(quarantine, events, secrets, 'all', Date.now())
    expect(outcomes.map((o) => [o.id, o.outcome, 'reason' in o ? o.reason : ''])).toEqual([
      ['q_bad', 'refused', 'mismatch'],
      ['q_none', 'refused', 'missing'],
      ['q_404', 'refused', 'unknown_service'],
    ])
    expect((await quarantine.stats()).count).toBe(3)
    expect(await events.list({ limit: 10 })).toEqual([])
  })

  it('a request to a service configured since is verified against it; POST /webhooks against every service', async () => {
    const later = 'later-secret-91d2'
    const { events, quarantine, secrets } = setup({ TYLT_SECRET_LATER: later })
    const other = Buffer.from('{"data":{"orderId":"o-2"}}')
    await quarantine.add([
      {
        id: 'q_404',
        ...refusedRequest({
          body,
          service: 'later',
          reason: 'unknown_service',
          signature: sign(later, body),
        }),
      },
      {
        id: 'q_any',
        ...refusedRequest({
          body: other,
          service: null,
          path: '/webhooks',
          signature: sign(SECRETS.upiOlder, other),
        }),
      },
    ])
    const outcomes = await retryQuarantined(quarantine, events, secrets, 'all', Date.now())
    expect(
      outcomes.map((o) => [o.id, o.outcome, 'event' in o ? o.event.service : '', 'slot' in o ? o.slot : -1]),
    ).toEqual([
      ['q_404', 'accepted', 'later', 0],
      ['q_any', 'accepted', 'prime-upi', 1],
    ])
    expect((await events.list({ limit: 10 })).map((e) => e.id).sort()).toEqual(
      [eventId('later', body), eventId('prime-upi', other)].sort(),
    )
  })

  it('a callback also re-sent from the dashboard is a duplicate: stored once, removed from quarantine', async () => {
    const { events, quarantine, secrets } = setup()
    const sig = sign(SECRETS.cpg, body)
    await events.append({
      id: eventId('cpg', body),
      service: 'cpg',
      acceptedAt: 1,
      signature: sig,
      orderId: null,
      merchantOrderId: null,
      status: null,
      product: 'unknown',
      final: 'unknown',
      body,
      recovered: null,
      deadline: null,
    })
    await quarantine.add([{ id: 'q_1', ...refusedRequest({ body, signature: sig }) }])
    const [outcome] = await retryQuarantined(quarantine, events, secrets, 'all', Date.now())
    expect(outcome?.outcome).toBe('duplicate')
    const stored = await events.list({ limit: 10 })
    expect(stored.map((e) => [e.acceptedAt, e.recovered])).toEqual([[1, null]])
    expect((await quarantine.stats()).count).toBe(0)
  })

  it('a pretty-printed body signed over its compact form is stored as the relay would: re-serialised', async () => {
    const { events, quarantine, secrets } = setup()
    const pretty = fixture('cpg-pay-in-pretty.json')
    const compact = Buffer.from(JSON.stringify(JSON.parse(pretty.toString())))
    await quarantine.add([
      { id: 'q_1', ...refusedRequest({ body: pretty, signature: sign(SECRETS.cpg, compact) }) },
    ])
    const [outcome] = await retryQuarantined(quarantine, events, secrets, 'all', Date.now())
    expect(outcome).toMatchObject({ outcome: 'accepted', fallback: true })
    expect((await events.get(eventId('cpg', compact)))?.body.equals(compact)).toBe(true)

    const off = setup({ SIGNATURE_JSON_FALLBACK: 'false' })
    await off.quarantine.add([
      { id: 'q_2', ...refusedRequest({ body: pretty, signature: sign(SECRETS.cpg, compact) }) },
    ])
    const [refused] = await retryQuarantined(off.quarantine, off.events, off.secrets, 'all', Date.now())
    expect(refused).toMatchObject({ outcome: 'refused', reason: 'mismatch' })
  })

  it('a typo in the callback URL: retried against the service it should have named', async () => {
    const { events, quarantine, secrets } = setup()
    const typo = { body, service: 'cgp', path: '/webhooks/cgp', reason: 'unknown_service' as const }
    await quarantine.add([{ id: 'q_1', ...refusedRequest({ ...typo, signature: sign(SECRETS.cpg, body) }) }])
    const [refused] = await retryQuarantined(quarantine, events, secrets, 'all', Date.now())
    expect(refused).toMatchObject({ outcome: 'refused', reason: 'unknown_service' })
    const [accepted] = await retryQuarantined(quarantine, events, secrets, 'all', Date.now(), 'cpg')
    expect(accepted).toMatchObject({
      outcome: 'accepted',
      event: { id: eventId('cpg', body), service: 'cpg' },
    })
    expect(await events.list({ limit: 10 })).toHaveLength(1)
  })
})
