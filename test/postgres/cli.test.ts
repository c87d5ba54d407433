import { describe, expect, it, onTestFinished } from 'vitest'
import { openPostgresQuarantineStore, openPostgresStore } from '../../src/store/postgres/open-postgres.js'
import { SECRETS, sign } from '../helpers/index.js'
import { runCli } from '../helpers/relay-process.js'
import { refusedRequest } from '../quarantine/helpers.js'
import { sql, testSchema } from './postgres-helper.js'
import { callbacks, idOf } from './replica-helpers.js'

const tablesIn = (url: string) =>
  sql(url, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`)

describe('the command line with STORE_URL', () => {
  it('refuses to list a quarantine where no relay has run, and creates nothing there', async () => {
    const { url } = await testSchema()
    for (const args of [
      ['quarantine', 'list'],
      ['verify', '--quarantined', 'q_1'],
    ]) {
      const run = await runCli(args, { STORE_URL: url, TYLT_SECRET_CPG: SECRETS.cpg })
      expect(run.code, args.join(' ')).toBe(1)
      expect(run.stderr).toContain(
        'no event store at postgres://127.0.0.1:5432/test; has the relay run there?',
      )
      expect(run.stdout).toBe('')
    }
    expect(await tablesIn(url)).toEqual([])
  })

  it('shows and replays one event, and retries a quarantined request into the same database', async () => {
    const { url, storeUrl } = await testSchema()
    const [delivered, quarantined] = callbacks(2)
    const store = await openPostgresStore(storeUrl)
    onTestFinished(() => store.close())
    const id = idOf(delivered!)
    await store.append({
      id,
      service: 'cpg',
      acceptedAt: Date.parse('2026-12-01T08:00:00Z'),
      signature: sign(SECRETS.cpg, delivered!),
      orderId: null,
      merchantOrderId: 'ORD-PG-1',
      status: 'Completed',
      product: 'cpg-pay-in',
      final: 'true',
      recovered: null,
      deadline: null,
      body: delivered!,
    })
    const [pending] = await store.pending({ limit: 10, maxBytes: 1 << 20 })
    await store.markDelivered([pending!.seq], Date.now(), 'redis://consumer')
    const env = { STORE_URL: url, TYLT_SECRET_CPG: SECRETS.cpg }

    const shown = await runCli(['events', 'show', id], env)
    expect(shown.stderr).toBe('')
    expect(shown.code).toBe(0)
    expect(shown.stdout).toMatch(new RegExp(`^id: +${id}$`, 'm'))
    expect(shown.stdout).toMatch(/^state: +delivered$/m)
    expect(shown.stdout).toContain('redis://consumer')
    expect(shown.stdout).not.toContain(delivered!.toString())

    expect(await runCli(['events', 'replay', id], env)).toMatchObject({
      code: 0,
      stdout: 'queued 1 event(s) for delivery\n',
    })
    expect((await store.get(id))?.state).toBe('pending')
    const missing = await runCli(['events', 'replay', 'evt_none'], env)
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('evt_none (nothing was queued)')

    // Signed with a secret the relay did not have when it came; it has it now.
    const quarantine = await openPostgresQuarantineStore(storeUrl)
    onTestFinished(() => quarantine.close())
    await quarantine.add([
      { id: 'q_pg_1', ...refusedRequest({ body: quarantined!, signature: sign(SECRETS.cpg, quarantined!) }) },
    ])
    const listed = await runCli(['quarantine', 'list'], env)
    expect(listed.code).toBe(0)
    expect(listed.stdout).toMatch(/^q_pg_1 .* mismatch .*\/webhooks\/cpg/)
    const retried = await runCli(['quarantine', 'retry', 'q_pg_1'], env)
    expect(retried.stderr).toBe('')
    expect(retried.code).toBe(0)
    expect(retried.stdout).toContain(`q_pg_1: accepted as ${idOf(quarantined!)}`)
    expect(await store.get(idOf(quarantined!))).toMatchObject({ state: 'stored', recovered: 'quarantine' })
    expect(await quarantine.stats()).toEqual({ count: 0, bytes: 0 })
  })
})
