import { randomBytes } from 'node:crypto'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import { Writable } from 'node:stream'
import { describe, expect, it, onTestFinished } from 'vitest'
import { triggerCommand } from '../../src/cli/trigger-command.js'
import { parseTyltEvent } from '../../src/consumer/parse-tylt-event.js'
import { verifyDelivery } from '../../src/consumer/verify-delivery.js'
import { eventually, tempDir } from '../helpers/index.js'
import { freePort, startRelay } from '../helpers/relay-process.js'

describe('an HTTP consumer on the kit, behind a real relay', () => {
  it('verifies what the relay sends and reads it as a typed event; a changed byte or another secret is refused', async () => {
    const secret = `whsec_${randomBytes(32).toString('base64')}`
    const received: { headers: IncomingHttpHeaders; body: Buffer }[] = []
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks) })
        res.writeHead(204).end()
      })
    })
    const port = await freePort()
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
    const relay = await startRelay({
      TYLT_SECRET_SHOP: 'shop-secret-77d0',
      DATA_DIR: tempDir(),
      FORWARD_URL: `http://127.0.0.1:${port}/tylt`,
      FORWARD_SIGNING_SECRET: secret,
    })
    const code = await triggerCommand.run({
      positionals: ['pix-payout', 'completed', `${relay.url}/webhooks/shop`],
      values: { order: 'PIXOUT-1' },
      env: { TYLT_SECRET_SHOP: 'shop-secret-77d0' },
      stdout: new Writable({ write: (_c, _e, done) => done() }),
    })
    expect(code).toBe(0)
    const [delivery] = await eventually(
      async () => received,
      (r) => r.length >= 1,
    )
    const { headers, body } = delivery!
    expect(verifyDelivery(headers, body, secret)).toMatchObject({ ok: true, id: headers['webhook-id'] })
    expect(parseTyltEvent(body, headers)).toMatchObject({
      product: 'pix',
      merchantOrderId: 'PIXOUT-1',
      status: '4',
      final: true,
      outcome: 'success',
      isBuyTrade: false,
      service: 'shop',
    })
    const changed = Buffer.from(body)
    changed[10] = changed[10]! ^ 0x20
    expect(verifyDelivery(headers, changed, secret)).toEqual({ ok: false, reason: 'bad-signature' })
    expect(verifyDelivery(headers, body, `whsec_${randomBytes(32).toString('base64')}`)).toEqual({
      ok: false,
      reason: 'bad-signature',
    })
    expect(received).toHaveLength(1)
    expect(await relay.stop()).toBe(0)
  })
})
