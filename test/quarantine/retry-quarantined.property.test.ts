import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import type { RefusedRequest } from '../../src/core/quarantine-store.js'
import { retryQuarantined } from '../../src/quarantine/retry-quarantined.js'
import { GroupCommitStore } from '../../src/store/group-commit-store.js'
import { SECRETS, sign, tempDir, testEnv } from '../helpers/index.js'
import { quarantineStore, receiver, refusedRequest } from './helpers.js'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

/** A forged request: random bytes under a random, borrowed, malformed or missing signature. */
const forgery: fc.Arbitrary<RefusedRequest> = fc
  .record({
    body: fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
    signature: fc.oneof(
      fc.uint8Array({ minLength: 32, maxLength: 32 }).map(hex),
      // A genuine signature, of some other body.
      fc.string().map((other) => sign(SECRETS.cpg, `${other}-other`)),
      fc.string({ maxLength: 80 }),
      fc.constant(null),
    ),
    service: fc.constantFrom('cpg', 'prime-upi', null, 'not-configured'),
  })
  .map(({ body, signature, service }) =>
    refusedRequest({
      body,
      signature,
      service,
      path: service === null ? '/webhooks' : `/webhooks/${service}`,
      reason: service === 'not-configured' ? 'unknown_service' : 'mismatch',
      receivedAt: Date.now(),
    }),
  )

describe('a forged request never leaves the quarantine', () => {
  it('stays quarantined after retry, and the events store (what any downstream reads) stays empty', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(forgery, { minLength: 1, maxLength: 8 }), async (forgeries) => {
        const dataDir = tempDir()
        const events = new GroupCommitStore(dataDir)
        const store = quarantineStore(dataDir, 5_000)
        try {
          const r = receiver({ store })
          for (const f of forgeries) r.refused(f)
          await r.flush()
          expect((await store.stats()).count).toBe(forgeries.length)
          const outcomes = await retryQuarantined(store, events, loadConfig(testEnv()), 'all', Date.now())
          expect(outcomes.map((o) => o.outcome)).toEqual(forgeries.map(() => 'refused'))
          expect((await store.stats()).count).toBe(forgeries.length)
          expect(await events.list({ limit: 100 })).toEqual([])
          expect(await events.stats()).toMatchObject({ pending: 0, dead: 0 })
        } finally {
          await events.close()
        }
      }),
      { numRuns: 40 },
    )
  })
})
