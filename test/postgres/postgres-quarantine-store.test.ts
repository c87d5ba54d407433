import { describe, expect, it, onTestFinished } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import type { QuarantinedRequest } from '../../src/core/quarantine-store.js'
import { openSharedQuarantineStore } from '../../src/store/open-store.js'
import { testEnv } from '../helper.js'
import { testSchema } from './postgres-helper.js'

const request = (i: number, bytes = 10): QuarantinedRequest => ({
  id: `q_${i}`,
  receivedAt: 1_700_000_000_000 + i * 1_000,
  reason: i % 2 === 0 ? 'mismatch' : 'unknown_service',
  path: `/webhooks/s${i}`,
  service: i % 2 === 0 ? 'cpg' : null,
  sourceAddress: '10.0.0.1',
  signature: i % 2 === 0 ? 'ab'.repeat(32) : null,
  contentType: 'application/json',
  userAgent: null,
  body: Buffer.alloc(bytes, i),
  fromVerifiedSource: false,
})

describe('PostgreSQL quarantine store', () => {
  it('keeps, lists newest first, gives back byte-exact, removes, counts and trims by age then size', async () => {
    const { url } = await testSchema()
    expect(await openSharedQuarantineStore(loadConfig(testEnv()))).toBeUndefined()
    const store = (await openSharedQuarantineStore(loadConfig(testEnv({ STORE_URL: url }))))!
    onTestFinished(() => store.close())
    await store.add([request(1), request(2), request(3, 30), request(4)])
    await store.add([request(4)])
    expect((await store.list(10)).map((q) => q.id)).toEqual(['q_4', 'q_3', 'q_2', 'q_1'])
    const { body: _body, ...summary } = request(3, 30)
    expect((await store.list(10))[1]).toEqual({ ...summary, bytes: 30 })
    expect(await store.get('q_2')).toEqual(request(2))
    expect(await store.get('q_9')).toBeUndefined()
    expect(await store.stats()).toEqual({ count: 4, bytes: 60 })
    expect(await store.trim(1_000, request(2).receivedAt)).toBe(1)
    expect(await store.trim(40, 0)).toBe(1)
    expect((await store.list(10)).map((q) => q.id)).toEqual(['q_4', 'q_3'])
    expect(await store.remove(['q_3', 'q_9'])).toBe(1)
    expect(await store.remove('all')).toBe(1)
    expect(await store.stats()).toEqual({ count: 0, bytes: 0 })
  })
})
