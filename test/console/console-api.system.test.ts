import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { promisify } from 'node:util'
import { describe, expect, test, vi } from 'vitest'
import { eventually } from '../helpers/index.js'
import { post } from '../helpers/relay-process.js'
import { payIn, TOKEN } from './console-test-app.js'
import { operatorRelay } from './operator-relay.js'

vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 })

const run = promisify(execFile)
const DOC = new URL('../../docs/console.md', import.meta.url)

/** The `curl` lines of the JSON API section of docs/console.md, as a reader would copy them. */
function documentedCurls(): string[] {
  const doc = readFileSync(DOC, 'utf8')
  const section = doc.slice(doc.indexOf('## JSON API'), doc.indexOf('\n## ', doc.indexOf('## JSON API') + 1))
  return section.split('\n').filter((line) => line.startsWith('curl '))
}

/** A relay holding one event (order ORD-10042) and one quarantined request; their ids. */
async function relayWithData() {
  const r = await operatorRelay()
  await r.accept(payIn('ORD-10042'))
  const events = await r.api('/console/api/events?order=ORD-10042')
  const eventId = (events.body.events as { id: string }[])[0]!.id
  const forged = payIn('ORD-FORGED')
  expect((await post(`${r.url}/webhooks/cpg`, forged, 'a'.repeat(64))).status).toBe(401)
  const requests = await eventually(
    async () => (await r.api('/console/api/quarantine')).body.requests as { id: string }[],
    (list) => list.length === 1,
  )
  return { ...r, eventId, requestId: requests[0]!.id }
}

const keys = (value: unknown) => Object.keys(value as object).sort()

describe('the JSON API', () => {
  test('every route is 401 without the token or with a wrong one, and changes nothing; with it, each answers its documented shape', async () => {
    const r = await relayWithData()
    const reads = [
      '/console/api',
      '/console/api/events',
      `/console/api/events/${r.eventId}`,
      '/console/api/quarantine',
      `/console/api/quarantine/${r.requestId}`,
      '/console/api/pulse',
    ]
    const actions = [
      `/console/api/events/${r.eventId}/replay`,
      '/console/api/dead-letters/replay',
      `/console/api/quarantine/${r.requestId}/retry`,
      `/console/api/quarantine/${r.requestId}/drop`,
      '/console/api/quarantine/drop-all',
    ]
    for (const path of [...reads, ...actions]) {
      const method = reads.includes(path) ? 'GET' : 'POST'
      for (const headers of [{}, { authorization: `Bearer ${TOKEN}x` }] as Record<string, string>[]) {
        const answer = await fetch(`${r.opsUrl}${path}`, { method, headers })
        expect(answer.status, `${method} ${path}`).toBe(401)
        expect(await answer.json()).toMatchObject({ error: 'unauthorized' })
      }
    }
    // Nothing the refused posts asked for happened.
    const event = await r.api(`/console/api/events/${r.eventId}`)
    expect((event.body.event as { attempts: number; retrySince: number }).attempts).toBe(0)
    expect(((await r.api('/console/api/quarantine')).body.stats as { count: number }).count).toBe(1)
    expect(r.output()).not.toContain('console: event queued for delivery again')

    const overview = await r.api('/console/api')
    expect(overview.status).toBe(200)
    expect(keys(overview.body)).toEqual([
      'downstreams',
      'lastAccepted',
      'now',
      'quarantine',
      'slots',
      'stats',
    ])
    // No downstream is configured: the event is stored, not pending (docs/downstreams.md).
    expect(overview.body.stats).toMatchObject({ pending: 0, dead: 0 })
    const list = await r.api('/console/api/events?order=ord-10')
    expect(keys(list.body)).toEqual(['events', 'next', 'problems'])
    expect(list.body.events).toEqual([
      expect.objectContaining({
        id: r.eventId,
        merchantOrderId: 'ORD-10042',
        status: 'Completed',
        statusLabel: 'completed',
        outcome: 'success',
        state: 'stored',
      }),
    ])
    expect(JSON.stringify(list.body)).not.toContain('baseAmount') // no body in a list
    expect(keys(event.body)).toEqual(['attempts', 'body', 'event'])
    expect(event.body.body).toMatchObject({ json: true, masked: 0, cut: false })
    expect((event.body.body as { text: string }).text).toContain('"merchantOrderId": "ORD-10042"')
    const held = await r.api(`/console/api/quarantine/${r.requestId}`)
    expect(keys(held.body)).toEqual(['body', 'request', 'verifiedBy'])
    expect(held.body).toMatchObject({ verifiedBy: null, request: { id: r.requestId, reason: 'mismatch' } })
    const pulse = await r.api('/console/api/pulse')
    expect(keys(pulse.body)).toEqual(['dead', 'newestSeq', 'oldestPendingAt', 'pending', 'quarantined'])
    expect(await r.api('/console/api/events/evt_nothing')).toMatchObject({
      status: 404,
      body: { error: 'not_found' },
    })
    const replay = await r.api(`/console/api/events/${r.eventId}/replay`, { method: 'POST' })
    expect(replay).toEqual({
      status: 200,
      body: { message: `Event ${r.eventId} is queued for delivery again.`, queued: 1 },
    })
    const retry = await r.api(`/console/api/quarantine/${r.requestId}/retry`, { method: 'POST' })
    expect(retry.body).toMatchObject({ outcome: 'refused' })
  })

  test('the curl examples in docs/console.md run against a real relay and answer JSON', async () => {
    const r = await relayWithData()
    const lines = documentedCurls()
    expect(lines.length).toBeGreaterThanOrEqual(10)
    const env = {
      PATH: process.env.PATH ?? '',
      OPS_TOKEN: TOKEN,
      EVENT_ID: r.eventId,
      REQUEST_ID: r.requestId,
    }
    const answers: Record<string, unknown>[] = []
    for (const line of lines) {
      const command = line.replaceAll('http://localhost:9090', r.opsUrl)
      const { stdout } = await run('sh', ['-c', command], { env })
      answers.push(JSON.parse(stdout) as Record<string, unknown>)
    }
    // Every documented action did what it says: the event queued again, the request retried, then dropped.
    expect(answers).toContainEqual(expect.objectContaining({ queued: 1 }))
    expect(answers).toContainEqual(expect.objectContaining({ outcome: 'refused' }))
    expect(answers.at(-1)).toMatchObject({ removed: 1 })
    expect(((await r.api('/console/api/quarantine')).body.stats as { count: number }).count).toBe(0)
  })
})
