import { createServer } from 'node:http'
import { Writable } from 'node:stream'
import { Redis } from 'ioredis'
import { describe, expect, it, onTestFinished } from 'vitest'
import { catalogue } from '../../src/cli/trigger-catalogue.js'
import { triggerCommand } from '../../src/cli/trigger-command.js'
import { uniqueName } from '../forward/sinks/helpers.js'
import { eventually, tempDir } from '../helpers/index.js'
import { freePort, runCli, startRelay } from '../helpers/relay-process.js'

const SECRETS = { TYLT_SECRET_SHOP: 'shop-secret-81f2', TYLT_SECRET_WALLET: 'wallet-secret-c03d' }

interface Received {
  readonly order: string
  readonly product: string
  readonly status: string
  readonly final: string
}

/** A downstream HTTP server that keeps what each request's metadata says. */
async function httpConsumer(): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = []
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      const h = (name: string) => String(req.headers[name])
      received.push({
        order: h('tylt-merchant-order-id'),
        product: h('tylt-product'),
        status: h('tylt-status'),
        final: h('tylt-final'),
      })
      res.writeHead(204).end()
    })
  })
  const port = await freePort()
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${port}/tylt`, received }
}

async function readStream(redis: Redis, stream: string): Promise<Received[]> {
  return (await redis.xrange(stream, '-', '+')).map(([, fields]) => {
    const map = new Map<string, string>()
    for (let i = 0; i < fields.length; i += 2) map.set(fields[i]!, fields[i + 1]!)
    const h = (name: string) => String(map.get(name))
    return {
      order: h('tylt-merchant-order-id'),
      product: h('tylt-product'),
      status: h('tylt-status'),
      final: h('tylt-final'),
    }
  })
}

/** Runs `trigger` in-process against `url`; resolves with its exit code and its output. */
async function trigger(args: string[], values: Record<string, string | boolean>) {
  let stdout = ''
  const out = new Writable({
    write(chunk, _encoding, done) {
      stdout += String(chunk)
      done()
    },
  })
  const code = await triggerCommand.run({ positionals: args, values, env: SECRETS, stdout: out })
  return { code, stdout }
}

describe('trigger against a real relay', () => {
  it('every row of --list gets 200 ok and arrives over HTTP and Redis with its product, status and final', async () => {
    const stream = uniqueName('tylt-trigger')
    const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 })
    onTestFinished(async () => {
      await redis.del(stream).catch(() => undefined)
      redis.disconnect()
    })
    const http = await httpConsumer()
    const relay = await startRelay({
      ...SECRETS,
      DATA_DIR: tempDir(),
      FORWARD_URL: http.url,
      FORWARD_URL_WALLET: `redis://127.0.0.1:6379?stream=${stream}`,
    })
    const listed = await runCli(['trigger', '--list', '--json'], SECRETS)
    expect(listed.code).toBe(0)
    const rows = JSON.parse(listed.stdout) as ReturnType<typeof catalogue>
    expect(rows).toEqual(catalogue())

    const expected: Received[] = []
    for (const [index, row] of rows.entries()) {
      const order = `T-${index}`
      expected.push({ order, product: row.product, status: row.wire, final: row.final })
      for (const service of ['shop', 'wallet']) {
        const sent = await trigger([row.family, row.state, `${relay.url}/webhooks/${service}`], { order })
        expect(sent.code, `${service} ${row.family} ${row.state}`).toBe(0)
        expect(sent.stdout).toMatch(/^200 ok \(accepted\) {2}/)
      }
    }
    await eventually(
      async () => http.received.length,
      (n) => n >= rows.length,
    )
    await eventually(
      () => readStream(redis, stream),
      (entries) => entries.length >= rows.length,
    )
    expect(http.received).toEqual(expected)
    expect(await readStream(redis, stream)).toEqual(expected)
    expect(relay.output()).not.toMatch(/shop-secret|wallet-secret/)
  })

  it('trigger upi --sequence arrives in a Redis stream in order, with one merchant order id', async () => {
    const stream = uniqueName('tylt-sequence')
    const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 })
    onTestFinished(async () => {
      await redis.del(stream).catch(() => undefined)
      redis.disconnect()
    })
    const relay = await startRelay({
      TYLT_SECRET_WALLET: SECRETS.TYLT_SECRET_WALLET,
      DATA_DIR: tempDir(),
      FORWARD_URL: `redis://127.0.0.1:6379?stream=${stream}`,
    })
    // The default URL: the relay this environment configures (its PORT on loopback).
    const sent = await runCli(['trigger', 'upi', '--sequence'], {
      TYLT_SECRET_WALLET: SECRETS.TYLT_SECRET_WALLET,
      PORT: String(relay.port),
    })
    expect(sent.stderr).toBe('')
    expect(sent.code).toBe(0)
    expect(sent.stdout.trimEnd().split('\n')).toHaveLength(4)
    const entries = await eventually(
      () => readStream(redis, stream),
      (e) => e.length >= 4,
    )
    expect(entries.map((e) => [e.product, e.status, e.final])).toEqual([
      ['upi', '1', 'false'],
      ['upi', '2', 'false'],
      ['upi', '3', 'false'],
      ['upi', '4', 'true'],
    ])
    expect(new Set(entries.map((e) => e.order)).size).toBe(1)
    expect(entries[0]!.order).toMatch(/^trigger-/)
  })

  it('sends nothing to a URL off this machine without --allow-remote', async () => {
    const sent = await runCli(['trigger', 'upi', '4', 'http://192.0.2.1/webhooks/wallet'], SECRETS)
    expect(sent.code).toBe(2)
    expect(sent.stdout).toBe('')
    expect(sent.stderr).toContain('192.0.2.1 is not this machine; add --allow-remote')
  })
})
