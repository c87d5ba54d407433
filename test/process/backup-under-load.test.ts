import { copyFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { STORE_FILE } from '../../src/constants.js'
import { SqliteStore } from '../../src/store/sqlite-store.js'
import { SECRETS, sign, tempDir } from '../helpers/index.js'
import { post, runCli, startRelay } from '../helpers/relay-process.js'

/** What the store in `dataDir` holds, read once the relay using it has stopped. */
function storedEvents(dataDir: string) {
  const store = new SqliteStore(dataDir, { mustExist: true })
  try {
    return store.list({ limit: 1_000_000 })
  } finally {
    store.close()
  }
}

const env = (dataDir: string) => ({ TYLT_SECRET_CPG: SECRETS.cpg, DATA_DIR: dataDir })
const TOTAL = 2_400
const LANES = 12

describe('store backup while the relay runs under load', () => {
  it('restores into a store that holds every event acknowledged before the backup began', async () => {
    const dataDir = tempDir()
    const relay = await startRelay(env(dataDir))
    const target = join(tempDir(), 'tylt-relay-backup.sqlite')
    const sent = new Set<string>()
    const acknowledged: string[] = []
    const refused: number[] = []
    let ackedBeforeBackup: string[] | undefined
    let backup: Promise<{ code: number; stdout: string; stderr: string }> | undefined
    let next = 0
    const lane = async () => {
      while (next < TOTAL) {
        const orderId = `backup-${next++}`
        const body = Buffer.from(JSON.stringify({ type: 'pay-in', data: { orderId, status: 'Completed' } }))
        sent.add(orderId)
        const answer = await post(`${relay.url}/webhooks/cpg`, body, sign(SECRETS.cpg, body))
        if (answer.status !== 200 || answer.body !== 'ok') {
          refused.push(answer.status)
          continue
        }
        acknowledged.push(orderId)
        // A third of the way in, the backup starts; the callbacks keep coming while it runs.
        if (acknowledged.length === TOTAL / 3) {
          ackedBeforeBackup = [...acknowledged]
          backup = runCli(['store', 'backup', target], env(dataDir))
        }
      }
    }
    await Promise.all(Array.from({ length: LANES }, lane))
    const result = await backup!
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(
      new RegExp(
        `^backed up (\\d+) events \\(\\d+ pending, 0 dead\\) from ${join(dataDir, STORE_FILE)} to ${target} ` +
          '\\(\\d+\\.\\d MB, integrity ok\\) in \\d+\\.\\d s\\n$',
      ),
    )
    expect(refused).toEqual([])
    expect(acknowledged).toHaveLength(TOTAL)

    // The running relay lost nothing while the backup read its store.
    expect(await relay.stop()).toBe(0)
    const live = new Set(storedEvents(dataDir).map((e) => e.orderId))
    expect(acknowledged.filter((id) => !live.has(id))).toEqual([])

    // Restore as docs/operations.md says: the backup becomes the database file of an empty DATA_DIR.
    const restoredDir = tempDir()
    copyFileSync(target, join(restoredDir, STORE_FILE))
    const restored = await startRelay(env(restoredDir))
    expect(await restored.stop()).toBe(0)
    const events = storedEvents(restoredDir)
    const held = new Set(events.map((e) => e.orderId))
    expect(ackedBeforeBackup!.filter((id) => !held.has(id))).toEqual([])
    expect(events.filter((e) => !sent.has(e.orderId ?? ''))).toEqual([])
    expect(events.every((e) => e.state === 'stored')).toBe(true)
    expect(Number(/^backed up (\d+)/.exec(result.stdout)?.[1])).toBe(events.length)
    console.info(
      `backup under load: ${ackedBeforeBackup!.length} acknowledged before it began, ${events.length} in it, ` +
        `${TOTAL} acknowledged in all`,
    )
  })
})
