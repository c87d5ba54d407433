import { describe, expect, it } from 'vitest'
import { eventually } from '../helpers/index.js'
import { sql, startPrivateServer } from './postgres-helper.js'
import { replica, steadyLoad } from './replica-helpers.js'

describe('PostgreSQL crashing under load', () => {
  it('keeps every callback answered 200, even where the server commits asynchronously', async () => {
    // The server's own default would lose the last commits of a crash: WAL still in its buffers, written by
    // the WAL writer only every 10 s. The relay's appends turn synchronous_commit back on for themselves.
    const server = await startPrivateServer({ synchronous_commit: 'off', wal_writer_delay: '10000' })
    expect(await sql(server.url, 'SHOW synchronous_commit')).toEqual([{ synchronous_commit: 'off' }])
    const relay = await replica(server.url)
    const load = steadyLoad(relay)
    await eventually(
      async () => load.answers.filter((a) => a.status === 200).length,
      (n) => n >= 2_000,
      30_000,
    )
    await server.crash()
    const crashedAt = performance.now()
    await eventually(
      async () => load.answers.filter((a) => a.answeredAt > crashedAt).length,
      (n) => n >= 20,
    )
    await load.stop()
    await server.start()

    const acknowledged = load.answers.filter((a) => a.status === 200)
    expect(acknowledged.filter((a) => a.answeredAt > crashedAt)).toEqual([])
    const stored = new Set((await sql(server.url, 'SELECT id FROM tylt_events')).map((r) => r.id as string))
    const lost = acknowledged.filter((a) => !stored.has(a.id))
    process.stdout.write(
      `crash: ${acknowledged.length} answered 200 before the crash, ${lost.length} of them not stored after it\n`,
    )
    expect(lost).toEqual([])
  }, 60_000)
})
