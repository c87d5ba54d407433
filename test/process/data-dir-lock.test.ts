import { hostname } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { LOCK_FILE } from '../../src/constants.js'
import { SECRETS, sign, tempDir } from '../helpers/index.js'
import { listEvents, post, runCli, startRelay } from '../helpers/relay-process.js'

/** Since when the relay holding `dataDir` has held it, read from the lock file as the refusal reads it. */
function heldSince(dataDir: string): string {
  const db = new Database(join(dataDir, LOCK_FILE), { readonly: true })
  try {
    const { since } = db.prepare('SELECT since FROM holder WHERE id = 1').get() as { since: number }
    return new Date(since).toISOString()
  } finally {
    db.close()
  }
}

describe('two relays on one DATA_DIR', () => {
  it('the second refuses to start with exit 1 and a message naming the first; the first keeps serving', async () => {
    const dataDir = tempDir('tylt-relay-two-')
    const env = { TYLT_SECRET_CPG: SECRETS.cpg, DATA_DIR: dataDir }
    const first = await startRelay(env)
    const before = Buffer.from(JSON.stringify({ type: 'pay-in', data: { orderId: 'two-before' } }))
    expect(await post(`${first.url}/webhooks/cpg`, before, sign(SECRETS.cpg, before))).toEqual({
      status: 200,
      body: 'ok',
    })

    const second = await runCli(['serve'], { ...env, HOST: '127.0.0.1', PORT: '0', OPS_PORT: '0' })
    expect(second.code).toBe(1)
    expect(second.stdout).toBe('')
    expect(second.stderr).toBe(
      `tylt-relay: DATA_DIR ${dataDir} is in use by another tylt-relay (pid ${first.child.pid} on ${hostname()}, ` +
        `since ${heldSince(dataDir)}): two relays on one store would deliver every event twice and out of order. ` +
        'Stop the other one, or give this one its own DATA_DIR\n',
    )

    expect(first.child.exitCode).toBeNull()
    expect((await fetch(`${first.opsUrl}/readyz`)).status).toBe(200)
    const after = Buffer.from(JSON.stringify({ type: 'pay-in', data: { orderId: 'two-after' } }))
    expect(await post(`${first.url}/webhooks/cpg`, after, sign(SECRETS.cpg, after))).toEqual({
      status: 200,
      body: 'ok',
    })
    expect(first.output()).not.toMatch(/"level":(50|60)/)
    expect(await first.stop()).toBe(0)
    expect((await listEvents(env)).map((e) => e.orderId).sort()).toEqual(['two-after', 'two-before'])
  })
})
