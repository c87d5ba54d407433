import pg from 'pg'
import { describe, expect, it, onTestFinished } from 'vitest'
import { LEASE_SESSION_SETTINGS } from '../../src/store/postgres/postgres-lease.js'
import { LOCK } from '../../src/store/postgres/schema.js'
import { eventually, sample } from '../helpers/index.js'
import type { RelayProcess } from '../helpers/relay-process.js'
import { sql, testSchema } from './postgres-helper.js'
import { callbacks, idOf, leaseHolder, redisStream, replica, sendAll } from './replica-helpers.js'

/** How soon another replica must forward, or say that nothing does, once the holder stops. */
const NOTICE_BOUND_MS = 60_000
const SILENT_HOLDER = 'forwarding lease held by a session that has been silent'

/**
 * A session holding the forwarding lock and then saying nothing more: what PostgreSQL sees of a replica whose
 * node lost power (no FIN, no RST: the socket stays open until keep-alives or a timeout end it). `settings`
 * are those its session had set.
 */
async function zombieHolder(url: string, settings: Record<string, string> = {}) {
  const client = new pg.Client({ connectionString: url })
  const ended = new Promise<Error>((resolve) => client.on('error', resolve))
  await client.connect()
  for (const [name, value] of Object.entries(settings))
    await client.query('SELECT set_config($1, $2, false)', [name, value])
  await client.query(`SELECT pg_advisory_lock(${LOCK.forward}, hashtext(current_schema()))`)
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
  const takenAt = Date.now()
  onTestFinished(() => client.end().catch(() => {}))
  const pid = rows[0]!.pid
  return {
    pid,
    takenAt,
    ended,
    end: () => client.end(),
    holds: async () =>
      (
        await sql(
          url,
          `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = $1 AND classid = $2::oid`,
          [pid, LOCK.forward],
        )
      ).length === 1,
  }
}

const logged = (relay: RelayProcess, text: string) => relay.stdout.filter((line) => line.includes(text))

/** Every acknowledged body's id, and a check that each is in the stream exactly once and nothing else is. */
async function expectForwardedOnce(ids: () => Promise<string[]>, acknowledged: readonly string[]) {
  const inStream = await eventually(ids, (found) => found.length >= acknowledged.length, 60_000)
  expect([...inStream].sort()).toEqual([...acknowledged].sort())
}

describe('a forwarding lease whose holder stops answering', () => {
  it('held by the session of a powered-off replica: PostgreSQL ends it, another replica forwards everything', async () => {
    const { url } = await testSchema()
    const stream = redisStream()
    // The schema first (the zombie's lock names it), then the zombie, then the live replicas.
    const first = await replica(url, stream.forwardUrl)
    await first.stop('SIGTERM')
    const zombie = await zombieHolder(url, LEASE_SESSION_SETTINGS)
    const relays = [await replica(url, stream.forwardUrl), await replica(url, stream.forwardUrl)]
    const bodies = callbacks(200)
    const statuses = await sendAll(bodies, (i) => relays[i % 2]!, 8)
    expect(statuses.every((s) => s === 200)).toBe(true)
    const before = await stream.ids()
    // Read while the zombie still held the lock: nothing was forwarded behind its back.
    if (await zombie.holds()) expect(before).toEqual([])

    await eventually(
      async () => relays.filter((r) => logged(r, 'forwarding lease acquired').length > 0).length,
      (n) => n > 0,
      NOTICE_BOUND_MS,
    )
    const holder = await leaseHolder(relays)
    expect(Date.now() - zombie.takenAt).toBeLessThanOrEqual(NOTICE_BOUND_MS)
    expect((await zombie.ended).message).toMatch(/idle-session timeout/)
    // Before it was ended, the replicas said that the lease's holder had gone silent, naming it.
    const warnings = relays.flatMap((r) => logged(r, SILENT_HOLDER))
    expect(warnings.length).toBeGreaterThan(0)
    expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 40, holderPid: zombie.pid })
    await expectForwardedOnce(stream.ids, bodies.map(idOf))
    expect(sample(await holder.metrics(), 'tylt_relay_forwarding_lease_held')).toBe(1)
  }, 120_000)

  it('held by a session that never ends by itself: every replica reports it, and forwards once it ends', async () => {
    const { url } = await testSchema()
    const stream = redisStream()
    const first = await replica(url, stream.forwardUrl)
    await first.stop('SIGTERM')
    // No idle bound on this one (a server without idle_session_timeout, or an older relay): only reports.
    const zombie = await zombieHolder(url)
    const relays = [await replica(url, stream.forwardUrl), await replica(url, stream.forwardUrl)]
    const bodies = callbacks(200)
    expect((await sendAll(bodies, (i) => relays[i % 2]!, 8)).every((s) => s === 200)).toBe(true)

    for (const relay of relays) {
      await eventually(
        async () => logged(relay, SILENT_HOLDER).length,
        (n) => n > 0,
        NOTICE_BOUND_MS - (Date.now() - zombie.takenAt),
      )
      expect(JSON.parse(logged(relay, SILENT_HOLDER)[0]!)).toMatchObject({ holderPid: zombie.pid })
      const metrics = await relay.metrics()
      expect(sample(metrics, 'tylt_relay_forwarding_lease_holder_silent_seconds')).toBeGreaterThanOrEqual(10)
      expect(sample(metrics, 'tylt_relay_forwarding_lease_held')).toBe(0)
      // Finding nothing without the lease is not progress: the stalled-forwarder rule can see the stall.
      expect(sample(metrics, 'tylt_relay_forwarder_last_progress_timestamp_seconds')).toBe(0)
      expect(relay.stdout.join('\n')).not.toContain('forwarding lease acquired')
    }
    expect(await zombie.holds()).toBe(true)
    expect(await stream.ids()).toEqual([])

    await zombie.end()
    const holder = await leaseHolder(relays)
    await expectForwardedOnce(stream.ids, bodies.map(idOf))
    const other = relays.find((r) => r !== holder)!
    await eventually(
      async () => sample(await other.metrics(), 'tylt_relay_forwarding_lease_holder_silent_seconds'),
      (silent) => silent !== undefined && silent < 10,
    )
  }, 120_000)

  it('held by a replica frozen with SIGSTOP: another replica takes over, and the thawed one does not forward', async () => {
    const { url } = await testSchema()
    const stream = redisStream()
    const relays = [await replica(url, stream.forwardUrl), await replica(url, stream.forwardUrl)]
    const frozen = await leaseHolder(relays)
    const other = relays.find((r) => r !== frozen)!
    onTestFinished(() => {
      frozen.child.kill('SIGCONT')
    })
    const early = callbacks(100)
    expect((await sendAll(early, () => frozen, 8)).every((s) => s === 200)).toBe(true)
    await eventually(stream.ids, (ids) => ids.length === early.length, 30_000)
    // Frozen once its deliveries are recorded: a freeze between Redis's answer and that record sends those
    // events again from the replica that takes over (at least once), which is not what this test is about.
    await eventually(
      () => sql(url, `SELECT count(*)::int AS n FROM tylt_events WHERE state = 'pending'`),
      (rows) => (rows as { n: number }[])[0]?.n === 0,
      30_000,
    )

    frozen.child.kill('SIGSTOP')
    const frozenAt = Date.now()
    const during = callbacks(200)
    expect((await sendAll(during, () => other, 8)).every((s) => s === 200)).toBe(true)
    await eventually(
      async () => logged(other, 'forwarding lease acquired').length,
      (n) => n === 1,
      NOTICE_BOUND_MS,
    )
    expect(Date.now() - frozenAt).toBeLessThanOrEqual(NOTICE_BOUND_MS)
    expect(logged(other, SILENT_HOLDER).length).toBeGreaterThan(0)
    await expectForwardedOnce(stream.ids, [...early, ...during].map(idOf))

    frozen.child.kill('SIGCONT')
    await eventually(
      async () => logged(frozen, 'forwarding lease lost').length,
      (n) => n === 1,
      30_000,
    )
    // The thawed process may shed its first callbacks (it sees the freeze as event-loop lag): a 503 is no
    // acknowledgement, and Tylt's sender would be told so. What it acknowledges must arrive once.
    const after = callbacks(100)
    const afterStatuses = await sendAll(after, (i) => relays[i % 2]!, 8)
    const acknowledged = after.filter((_, i) => afterStatuses[i] === 200)
    expect(acknowledged.length).toBeGreaterThanOrEqual(50)
    await expectForwardedOnce(stream.ids, [...early, ...during, ...acknowledged].map(idOf))
    expect(sample(await frozen.metrics(), 'tylt_relay_forwarding_lease_held')).toBe(0)
    expect(sample(await other.metrics(), 'tylt_relay_forwarding_lease_held')).toBe(1)
    const pending = await sql(url, `SELECT count(*)::int AS n FROM tylt_events WHERE state = 'pending'`)
    expect(pending).toEqual([{ n: 0 }])
  }, 150_000)
})
