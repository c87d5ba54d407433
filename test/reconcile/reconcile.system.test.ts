import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { describe, expect, it, onTestFinished } from 'vitest'
import { REDIS_BODY_FIELD } from '../../src/forward/headers.js'
import { redisServerArgs } from '../forward/sinks/helpers.js'
import { eventually, SECRETS, tempDir } from '../helpers/index.js'
import { listEvents, runCli, startRelay } from '../helpers/relay-process.js'
import { testSchema } from '../postgres/postgres-helper.js'
import type { TyltStandIn } from '../support/tylt-stand-in.js'
import { API_KEYS, reconcileEnv, STAND_IN_SERVICES, standIn } from './reconcile-helpers.js'

type Entry = { fields: Record<string, string>; body: Buffer }

/** A Redis stream's entries, fields as text and the body as bytes. */
function stream(url = 'redis://127.0.0.1:6379') {
  const name = `tylt-reconcile-${randomBytes(6).toString('hex')}`
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true })
  // Before its server starts, reads fail and are retried by the caller.
  redis.on('error', () => {})
  onTestFinished(async () => {
    await redis.del(name).catch(() => undefined)
    redis.disconnect()
  })
  return {
    forwardUrl: `${url}?stream=${name}`,
    async entries(): Promise<Entry[]> {
      const raw = await redis.xrangeBuffer(name, '-', '+').catch(() => [])
      return raw.map(([, list]) => {
        const fields: Record<string, string> = {}
        let body: Buffer = Buffer.alloc(0)
        for (let i = 0; i < list.length; i += 2) {
          const key = list[i]!.toString()
          if (key === REDIS_BODY_FIELD) body = list[i + 1]!
          else fields[key] = list[i + 1]!.toString()
        }
        return { fields, body }
      })
    },
  }
}

const baseEnv = (stand: TyltStandIn, extra: Record<string, string> = {}): Record<string, string> => ({
  TYLT_SECRET_CPG: SECRETS.cpg,
  TYLT_SECRET_PRIME_UPI: SECRETS.upiCurrent,
  DATA_DIR: tempDir(),
  LOG_LEVEL: 'warn',
  ...reconcileEnv(stand),
  ...extra,
})

async function deliver(stand: TyltStandIn, relayUrl: string, key: string, service = 'cpg') {
  expect(await stand.deliver(key, `${relayUrl}/webhooks/${service}`), `${relayUrl} ${key}`).toBe(200)
}

describe('reconcile, end to end', () => {
  it('emits each missed final state once into a real Redis stream: CPG, UPI, PIX and EU', async () => {
    const stand = await standIn()
    const out = stream()
    const relay = await startRelay(baseEnv(stand, { FORWARD_URL: out.forwardUrl }))
    const cpg = stand.addOrder('cpg', 'cpg-pay-in', 'Pending')
    const upi = stand.addOrder('prime-upi', 'upi', 2)
    const pix = stand.addOrder('prime-upi', 'pix', 2)
    const eu = stand.addOrder('prime-upi', 'eu', 4)
    await deliver(stand, relay.url, cpg)
    for (const key of [upi, pix, eu]) await deliver(stand, relay.url, key, 'prime-upi')
    await eventually(out.entries, (e) => e.length === 4)
    stand.move(cpg, 'Completed')
    stand.move(upi, 4)
    stand.move(pix, 4)
    stand.move(eu, 5)

    const first = await runCli(['reconcile'], relay.env)
    expect(first.code, first.stderr).toBe(0)
    const lines = first.stdout.trim().split('\n').sort()
    expect(lines).toEqual(
      [
        `cpg cpg-pay-in ${cpg} Pending→Completed emitted 200 GET /transactions/merchant/getPayinTransactionInformation`,
        `prime-upi upi ${upi} 2→4 emitted 200 GET /p2pRampsMerchant/getInstanceDetails`,
        `prime-upi pix ${pix} 2→4 emitted 200 GET /p2pRampsMerchant/getInstanceDetails`,
        `prime-upi eu-open-banking ${eu} 4→5 emitted 200 GET /v2/prime-fiat/instance/details`,
      ].sort(),
    )
    const entries = await eventually(out.entries, (e) => e.length === 8)
    const recovered = entries.slice(4)
    for (const [key, product] of [
      [cpg, 'cpg-pay-in'],
      [upi, 'upi'],
      [pix, 'pix'],
      [eu, 'eu-open-banking'],
    ] as const) {
      const entry = recovered.find((e) => e.fields['tylt-order-id'] === key)
      expect(entry, key).toBeDefined()
      expect(entry!.body.equals(stand.answer(key))).toBe(true)
      expect(entry!.fields).toMatchObject({
        'tylt-recovered': 'reconcile',
        'tylt-final': 'true',
        'tylt-product': product,
      })
      expect(entry!.fields['tylt-signature']).toBeUndefined()
      expect(entry!.fields['tylt-reconcile-endpoint']).toMatch(/^GET \//)
      expect(entry!.fields['webhook-id']).toMatch(/^rec_/)
    }
    // The genuine callbacks kept their signature.
    expect(entries.slice(0, 4).every((e) => /^[0-9a-f]{64}$/.test(e.fields['tylt-signature'] ?? ''))).toBe(
      true,
    )
    expect(stand.requests.filter((r) => r.method !== 'GET' || r.path.includes('approve'))).toEqual([])

    const second = await runCli(['reconcile', '--order', cpg], relay.env)
    expect(second.code, second.stderr).toBe(0)
    expect(second.stdout).toContain(`${cpg} Completed→Completed unchanged 200`)
    const third = await runCli(['reconcile'], relay.env)
    expect([third.code, third.stdout]).toEqual([0, ''])
    expect(await listEvents(relay.env)).toHaveLength(8)
    const listed = await runCli(['events', 'list', '--recovered', 'reconcile', '--json'], relay.env)
    const recoveredIds = (JSON.parse(listed.stdout) as { id: string }[]).map((e) => e.id).sort()
    expect(recoveredIds).toEqual(recovered.map((e) => e.fields['webhook-id']).sort())
    // A genuine callback for a state reconcile already emitted is still accepted and forwarded.
    await deliver(stand, relay.url, cpg)
    await eventually(out.entries, (e) => e.length === 9)
  })

  it('recovers orders the relay never saw, from an orders file naming their service and product', async () => {
    const stand = await standIn()
    const out = stream()
    const relay = await startRelay(baseEnv(stand, { FORWARD_URL: out.forwardUrl }))
    // Created at Tylt, their only callbacks lost: the relay has no event of them.
    const upi = stand.addOrder('prime-upi', 'upi', 4, { merchantOrderId: 'UPI-NIGHTLY-1' })
    const cpg = stand.addOrder('cpg', 'cpg-pay-in', 'Completed')
    const dir = tempDir()
    const file = join(dir, 'open-orders.jsonl')
    writeFileSync(
      file,
      [
        '# orders still open in the shop, exported nightly',
        '{"service":"prime-upi","product":"upi","merchantOrderId":"UPI-NIGHTLY-1"}',
        `{"service":"cpg","product":"cpg-pay-in","orderId":"${cpg}"}`,
        '{"service":"cpg","product":"cpg-pay-in","orderId":"00000000-0000-1000-8000-000000000000"}',
      ].join('\n'),
    )
    const UPI_LINE = `prime-upi upi ${upi}`
    const CPG_LINE = `cpg cpg-pay-in ${cpg}`

    const dry = await runCli(['reconcile', '--orders-file', file, '--dry-run'], relay.env)
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stdout).toContain(`${UPI_LINE} -→4 dry-run 200 GET /p2pRampsMerchant/getInstanceDetails`)
    expect(await listEvents(relay.env)).toEqual([])

    const first = await runCli(['reconcile', '--orders-file', file], relay.env)
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout.trim().split('\n').sort()).toEqual(
      [
        `${UPI_LINE} -→4 emitted 200 GET /p2pRampsMerchant/getInstanceDetails`,
        `${CPG_LINE} -→Completed emitted 200 GET /transactions/merchant/getPayinTransactionInformation`,
        'cpg cpg-pay-in 00000000-0000-1000-8000-000000000000 -→- not-found 404 GET /transactions/merchant/getPayinTransactionInformation (Tylt knows no such order, or no state yet)',
      ].sort(),
    )
    const entries = await eventually(out.entries, (e) => e.length === 2)
    for (const key of [upi, cpg]) {
      const entry = entries.find((e) => e.fields['tylt-order-id'] === key)
      expect(entry, key).toBeDefined()
      expect(entry!.body.equals(stand.answer(key))).toBe(true)
      expect(entry!.fields).toMatchObject({ 'tylt-recovered': 'reconcile', 'tylt-final': 'true' })
      expect(entry!.fields['tylt-signature']).toBeUndefined()
    }
    expect(entries.find((e) => e.fields['tylt-order-id'] === upi)!.fields['tylt-merchant-order-id']).toBe(
      'UPI-NIGHTLY-1',
    )

    const second = await runCli(['reconcile', '--orders-file', file, '--json'], relay.env)
    expect(second.code, second.stderr).toBe(0)
    const results = second.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(results.map((r) => [r.orderKey, r.action]).sort()).toEqual(
      [
        [upi, 'unchanged'],
        [cpg, 'unchanged'],
        ['00000000-0000-1000-8000-000000000000', 'not-found'],
      ].sort(),
    )
    expect(await listEvents(relay.env)).toHaveLength(2)

    const bare = await runCli(
      ['reconcile', '--order', 'UPI-NEVER-EXPORTED', '--service', 'prime-upi'],
      relay.env,
    )
    expect(bare.code).toBe(1)
    expect(bare.stdout).toContain(
      'UPI-NEVER-EXPORTED -→- skipped - - (the relay has seen no event of this order: add --service and --product',
    )
    const wrong = await runCli(
      ['reconcile', '--order', cpg, '--service', 'cpg', '--product', 'crypto'],
      relay.env,
    )
    expect(wrong.code).toBe(2)
    expect(wrong.stderr).toContain('--product: unknown product "crypto"; one of cpg-pay-in, cpg-payout, upi')
    writeFileSync(file, `{"service":"cpg","product":"php","orderId":"${cpg}"}\n`)
    const wrongLine = await runCli(['reconcile', '--orders-file', file], relay.env)
    expect([wrongLine.code, wrongLine.stderr]).toMatchObject([
      2,
      expect.stringContaining('--orders-file line 1: unknown product "php"'),
    ])
    const alone = await runCli(['reconcile', '--product', 'upi'], relay.env)
    expect([alone.code, alone.stderr]).toMatchObject([
      2,
      expect.stringContaining('--product names the product'),
    ])
    expect(stand.requestsFor({ query: 'UPI-NEVER-EXPORTED' })).toEqual([])
    expect(await listEvents(relay.env)).toHaveLength(2)
    // Tylt's callback, should it come after all, is still taken and forwarded.
    await deliver(stand, relay.url, cpg)
    await eventually(out.entries, (e) => e.length === 3)
  })

  it('asks nothing about an order whose final callback arrived first', async () => {
    const stand = await standIn()
    const relay = await startRelay(baseEnv(stand))
    const done = stand.addOrder('cpg', 'cpg-pay-in', 'Pending')
    await deliver(stand, relay.url, done)
    stand.move(done, 'Completed')
    await deliver(stand, relay.url, done)
    const run = await runCli(['reconcile'], relay.env)
    expect([run.code, run.stdout]).toEqual([0, ''])
    expect(stand.requests).toEqual([])
  })

  it('forwards a committed event once after a SIGKILL before forwarding, with the same id', async () => {
    const stand = await standIn()
    const redisPort = await portAboveEphemeral()
    const out = stream(`redis://127.0.0.1:${redisPort}`)
    // Nothing listens on the downstream's port yet: whatever is committed stays pending.
    const env = baseEnv(stand, { FORWARD_URL: out.forwardUrl, RECONCILE_INTERVAL: '500ms' })
    const relay = await startRelay(env)
    const key = stand.addOrder('cpg', 'cpg-pay-in', 'Pending')
    await deliver(stand, relay.url, key)
    stand.move(key, 'Completed')
    const committed = await eventually(
      () => listEvents(relay.env),
      (events) => events.some((e) => e.id?.startsWith('rec_')),
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${relay.output()}`)
    })
    const id = committed.find((e) => e.id?.startsWith('rec_'))!.id
    expect(await relay.stop('SIGKILL')).toBe('SIGKILL')

    const redis = startRedis(redisPort)
    const { PORT: _port, OPS_PORT: _opsPort, ...sameEnv } = relay.env
    const again = await startRelay(sameEnv)
    const entries = await eventually(out.entries, (e) => e.length === 2, 20_000)
    expect(entries.map((e) => e.fields['webhook-id'])).toContain(id)
    // A few more rounds of the restarted relay: still one copy, and no new question about a final order.
    const asked = stand.requests.length
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    expect((await out.entries()).filter((e) => e.fields['webhook-id'] === id)).toHaveLength(1)
    expect(stand.requests.length).toBe(asked)
    await again.stop()
    redis.kill()
    for (const secret of [API_KEYS.cpg, API_KEYS.upi, SECRETS.cpg]) {
      expect(relay.output() + again.output()).not.toContain(secret)
    }
  })

  it('exits 1 naming a refused service once, and the orders a failing Tylt left unchecked; never the key', async () => {
    const stand = await standIn([
      { ...STAND_IN_SERVICES[0]!, apiKey: 'the-key-tylt-knows' },
      STAND_IN_SERVICES[1]!,
    ])
    const relay = await startRelay(baseEnv(stand))
    const cpg = stand.addOrder('cpg', 'cpg-pay-in', 'Pending')
    await deliver(stand, relay.url, cpg)
    const upi: string[] = []
    for (let i = 0; i < 5; i++) {
      const key = stand.addOrder('prime-upi', 'upi', 2, {
        orderId: `inst_f${i}`,
        merchantOrderId: `UPI-F${i}`,
      })
      await deliver(stand, relay.url, key, 'prime-upi')
      upi.push(key)
    }
    stand.fail({ service: 'prime-upi', status: 500, times: 5 })
    const run = await runCli(['reconcile'], relay.env)
    expect(run.code).toBe(1)
    const serviceLines = run.stderr.split('\n').filter((l) => l.includes('service '))
    expect(serviceLines).toEqual([
      'tylt-relay: service cpg: Tylt refused the API key or signature (HTTP 401); its orders were not checked',
    ])
    const notChecked = run.stderr.split('\n').find((l) => l.startsWith('tylt-relay: not checked: '))
    for (const key of upi) expect(notChecked).toContain(`prime-upi/${key}`)
    expect(notChecked).toContain(`cpg/${cpg}`)
    for (const secret of [API_KEYS.cpg, API_KEYS.upi, SECRETS.cpg, SECRETS.upiCurrent]) {
      expect(run.stdout + run.stderr).not.toContain(secret)
      expect(relay.output()).not.toContain(secret)
    }
    expect(await listEvents(relay.env)).toHaveLength(6)
  })

  it('abandons an order past RECONCILE_MAX_AGE and shows it in --json', async () => {
    const stand = await standIn()
    const relay = await startRelay(baseEnv(stand, { RECONCILE_MAX_AGE: '1s' }))
    const key = stand.addOrder('cpg', 'cpg-pay-in', 'Pending')
    await deliver(stand, relay.url, key)
    await new Promise((resolve) => setTimeout(resolve, 1_200))
    const run = await runCli(['reconcile', '--json'], relay.env)
    expect(run.code, run.stderr).toBe(0)
    expect(JSON.parse(run.stdout)).toMatchObject({ orderKey: key, action: 'abandoned', previous: 'Pending' })
    expect(stand.requests).toEqual([])
    const { TYLT_APIKEY_CPG: _cpg, TYLT_APIKEY_PRIME_UPI: _upi, ...keyless } = relay.env
    const none = await runCli(['reconcile'], keyless)
    expect([none.code, none.stderr]).toEqual([
      1,
      'tylt-relay: no service has an API key: set TYLT_APIKEY_<NAME> or TYLT_APIKEY_<NAME>_FILE\n',
    ])
  })

  it('with two replicas on PostgreSQL, asks about each due order from one replica per round', async () => {
    const stand = await standIn()
    const { url } = await testSchema()
    const env = baseEnv(stand, { STORE_URL: url, RECONCILE_INTERVAL: '1s' })
    const a = await startRelay({ ...env, DATA_DIR: tempDir() })
    const b = await startRelay({ ...env, DATA_DIR: tempDir() })
    const keys: string[] = []
    for (let i = 0; i < 4; i++) {
      const key = stand.addOrder('cpg', 'cpg-pay-in', 'Pending', {
        orderId: `1111111${i}-aaaa-4bbb-8ccc-000000000000`,
        merchantOrderId: `PG-${i}`,
      })
      await deliver(stand, (i % 2 === 0 ? a : b).url, key)
      keys.push(key)
    }
    // Slow answers make a round outlast the interval: without a lease the other replica's round would overlap.
    stand.fail({ service: 'cpg', delayMs: 600, times: 100 })
    await eventually(
      async () => stand.requestsFor({ service: 'cpg' }).length,
      (n) => n >= 4,
      30_000,
    )
    await new Promise((resolve) => setTimeout(resolve, 2_500))
    for (const key of keys) expect(stand.requestsFor({ query: key }), key).toHaveLength(1)
    expect(a.output() + b.output()).not.toMatch(/reconcile round failed/)
    // The command works on the same store beside the replicas.
    stand.move(keys[0]!, 'Completed')
    const { PORT: _port, OPS_PORT: _opsPort, ...cliEnv } = a.env
    const run = await runCli(['reconcile', '--order', 'PG-0', '--json'], cliEnv)
    expect(run.code, run.stderr).toBe(0)
    expect(JSON.parse(run.stdout)).toMatchObject({
      orderKey: keys[0],
      previous: 'Pending',
      current: 'Completed',
      action: 'emitted',
    })
  })
})

/** A free port above the kernel's ephemeral range and below the slices test/ports.ts hands out to others. */
async function portAboveEphemeral(): Promise<number> {
  for (;;) {
    const port = 61_000 + Math.floor(Math.random() * 4_000)
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer()
      server.once('error', () => resolve(false))
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
    })
    if (free) return port
  }
}

function startRedis(port: number): ChildProcess {
  const child = spawn('redis-server', redisServerArgs(port, tempDir()), { stdio: 'ignore' })
  onTestFinished(() => {
    child.kill('SIGKILL')
  })
  return child
}
