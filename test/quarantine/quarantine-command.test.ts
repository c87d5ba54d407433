import { readdirSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { quarantineCommand } from '../../src/cli/quarantine-command.js'
import { loadConfig } from '../../src/config/load-config.js'
import type { EventStore } from '../../src/core/event-store.js'
import { UsageError } from '../../src/errors.js'
import { SECRETS, tempDir } from '../helpers/index.js'
import { runCli } from '../helpers/relay-process.js'
import { quarantineStore, refusedRequest } from './helpers.js'

const secrets = loadConfig({ TYLT_SECRET_CPG: SECRETS.cpg })
const noEvents = async (): Promise<EventStore> => {
  throw new Error('the event store is not opened by this action')
}
const args = (action: string, ids: string[] = [], extra = {}) => ({
  action,
  ids,
  all: false,
  json: false,
  limit: undefined,
  ...extra,
})

async function filled() {
  const store = quarantineStore()
  await store.add([
    { id: 'q_a', ...refusedRequest({ receivedAt: Date.UTC(2026, 11, 1, 8, 0, 0) }) },
    {
      id: 'q_b',
      ...refusedRequest({
        receivedAt: Date.UTC(2026, 11, 1, 8, 0, 1),
        reason: 'unknown_service',
        path: '/webhooks/typo',
        service: 'typo',
        body: Buffer.from([0xff, 0x00]),
        signature: null,
      }),
    },
  ])
  return store
}

describe('tylt-relay quarantine', () => {
  it('list: newest first, one line each, without the body', async () => {
    const store = await filled()
    expect(await quarantineCommand(store, noEvents, secrets, args('list'))).toEqual({
      code: 0,
      lines: [
        'q_b  2026-12-01T08:00:01.000Z  unknown_service  /webhooks/typo  from 203.0.113.7  2 bytes',
        'q_a  2026-12-01T08:00:00.000Z  mismatch         /webhooks/cpg  from 203.0.113.7  26 bytes',
      ],
    })
    const empty = quarantineStore()
    expect(await quarantineCommand(empty, noEvents, secrets, args('list'))).toEqual({
      code: 0,
      lines: ['nothing is quarantined'],
    })
  })

  it('show: every field; the body only with --body, masked unless --unmasked, base64 when not UTF-8', async () => {
    const store = await filled()
    const fields = [
      'id: q_b',
      'receivedAt: 2026-12-01T08:00:01.000Z',
      'reason: unknown_service',
      'path: /webhooks/typo',
      'service: typo',
      'sourceAddress: 203.0.113.7',
      'signature: null',
      'contentType: application/json',
      'userAgent: tylt/1',
      'fromVerifiedSource: false',
      'bytes: 2',
    ]
    const show = async (id: string, extra = {}) =>
      (await quarantineCommand(store, noEvents, secrets, args('show', [id], extra))).lines
    expect(await show('q_b')).toEqual([
      ...fields,
      'body: 2 bytes, not shown (it may hold personal data); add --body to print it',
    ])
    expect(await show('q_b', { body: true })).toEqual([
      ...fields,
      'body (1 value(s) that may be personal data masked; add --unmasked to print it as received):',
      '[masked]',
    ])
    expect(await show('q_b', { body: true, unmasked: true })).toEqual([...fields, 'body (base64):', '/wA='])
    const json = async (extra = {}) => JSON.parse((await show('q_a', { json: true, ...extra }))[0]!)
    expect(await json()).not.toHaveProperty('body')
    expect(await json({ body: true })).toMatchObject({
      id: 'q_a',
      encoding: 'masked',
      masked: 0,
      body: JSON.stringify({ data: { orderId: 'o-1' } }, null, 2),
    })
    expect(await json({ body: true, unmasked: true })).toMatchObject({
      id: 'q_a',
      encoding: 'utf8',
      body: '{"data":{"orderId":"o-1"}}',
    })
    expect(await quarantineCommand(store, noEvents, secrets, args('show', ['q_zz']))).toEqual({
      code: 1,
      lines: ['q_zz: not in quarantine (already retried or dropped); nothing done'],
    })
  })

  it('drop: by id (naming the ones not there) or all', async () => {
    const store = await filled()
    expect(await quarantineCommand(store, noEvents, secrets, args('drop', ['q_a', 'q_zz']))).toEqual({
      code: 1,
      lines: ['q_zz: not in quarantine (already retried or dropped); nothing done', 'dropped 1 request(s)'],
    })
    expect(await quarantineCommand(store, noEvents, secrets, args('drop', [], { all: true }))).toEqual({
      code: 0,
      lines: ['dropped 1 request(s)'],
    })
    expect((await store.stats()).count).toBe(0)
  })

  it('retry and drop need ids or --all, not both; an unknown action is a usage error', async () => {
    const store = await filled()
    await expect(quarantineCommand(store, noEvents, secrets, args('retry'))).rejects.toThrow(
      new UsageError('quarantine retry needs ids or --all'),
    )
    await expect(
      quarantineCommand(store, noEvents, secrets, args('drop', ['q_a'], { all: true })),
    ).rejects.toThrow(new UsageError('quarantine drop takes ids or --all, not both'))
    await expect(quarantineCommand(store, noEvents, secrets, args('purge'))).rejects.toThrow(UsageError)
    expect((await store.stats()).count).toBe(2)
  })

  it('where the relay never kept a quarantine, says so instead of creating one', async () => {
    const dataDir = tempDir()
    const result = await runCli(['quarantine', 'list'], { DATA_DIR: dataDir })
    expect(result.code).toBe(1)
    expect(result.stderr).toBe(
      `tylt-relay: no quarantine in DATA_DIR (${dataDir}); has the relay run there with QUARANTINE_MAX_BYTES above 0?\n`,
    )
    expect(readdirSync(dataDir)).toEqual([])
  })
})
