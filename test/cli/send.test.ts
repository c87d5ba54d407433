import { writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { createServer as createTcpServer, type Socket } from 'node:net'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { fixture } from '../helpers/fixtures.js'
import { SECRETS, sign, tempDir } from '../helpers/index.js'
import { freePort, runCli, startRelay } from '../helpers/relay-process.js'

const env = (dataDir = tempDir()) => ({
  TYLT_SECRET_CPG: SECRETS.cpg,
  TYLT_SECRET_PRIME_UPI: SECRETS.upiCurrent,
  DATA_DIR: dataDir,
})

async function listen(server: Server | ReturnType<typeof createTcpServer>): Promise<number> {
  const port = await freePort()
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return port
}

/** A stand-in relay answering `ok` with the outcome header it is given, recording what it got. */
async function answering(outcome: string | undefined) {
  const got: { url: string; signature: string; body: string; authorization?: string }[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      const { authorization } = req.headers
      got.push({
        url: req.url ?? '',
        signature: String(req.headers['x-tlp-signature']),
        body,
        ...(authorization === undefined ? {} : { authorization }),
      })
      res.writeHead(200, outcome === undefined ? {} : { 'tylt-relay-outcome': outcome }).end('ok')
    })
  })
  return { port: await listen(server), got }
}

describe('tylt-relay send', () => {
  it('takes the service from /webhooks/NAME when --service is absent, and signs with its secret', async () => {
    const relay = await startRelay(env())
    const file = join(tempDir(), 'upi.json')
    writeFileSync(file, fixture('upi-trade.json'))
    const sent = await runCli(['send', `${relay.url}/webhooks/prime-upi`, file], env())
    expect(sent).toEqual({ code: 0, stdout: '200 ok (accepted)\n', stderr: '' })
    // Signed for prime-upi: sent to the cpg route, the same body is refused.
    const wrong = await runCli(['send', `${relay.url}/webhooks/cpg`, file, '--service', 'prime-upi'], env())
    expect([wrong.code, wrong.stdout]).toEqual([1, '401 invalid signature\n'])
  })

  it('says whether the relay took a new event or a duplicate, from tylt-relay-outcome', async () => {
    for (const [outcome, printed] of [
      ['accepted', '200 ok (accepted)\n'],
      ['duplicate', '200 ok (duplicate: already received)\n'],
      [undefined, '200 ok\n'],
      ['something-new', '200 ok\n'],
    ] as const) {
      const relay = await answering(outcome)
      const file = join(tempDir(), 'cpg.json')
      writeFileSync(file, fixture('cpg-pay-in.json'))
      const sent = await runCli(['send', `http://127.0.0.1:${relay.port}/webhooks/cpg`, file], env())
      expect([sent.code, sent.stdout, sent.stderr]).toEqual([0, printed, ''])
      expect(relay.got).toEqual([
        {
          url: '/webhooks/cpg',
          signature: sign(SECRETS.cpg, fixture('cpg-pay-in.json')),
          body: fixture('cpg-pay-in.json').toString(),
        },
      ])
    }
  })

  it('a re-send of the same bytes to a real relay is ok, and the store keeps one event', async () => {
    const dataDir = tempDir()
    const relay = await startRelay(env(dataDir))
    const file = join(tempDir(), 'cpg.json')
    writeFileSync(file, fixture('cpg-pay-in.json'))
    const first = await runCli(['send', `${relay.url}/webhooks/cpg`, file], env(dataDir))
    const again = await runCli(['send', `${relay.url}/webhooks/cpg`, file], env(dataDir))
    expect(first).toEqual({ code: 0, stdout: '200 ok (accepted)\n', stderr: '' })
    expect(again).toEqual({ code: 0, stdout: '200 ok (duplicate: already received)\n', stderr: '' })
    const listed = JSON.parse((await runCli(['events', 'list', '--json'], env(dataDir))).stdout) as unknown[]
    expect(listed).toHaveLength(1)
  })

  it('names the URL and says nothing listens there, not "fetch failed"', async () => {
    const port = await freePort()
    const url = `http://127.0.0.1:${port}/webhooks/cpg`
    expect(await runCli(['send', url], env())).toEqual({
      code: 1,
      stdout: '',
      stderr: `tylt-relay: cannot reach ${url}: nothing listens on 127.0.0.1:${port}\n`,
    })
  })

  it('names a host that does not resolve', async () => {
    const url = 'http://relay.tylt-test.invalid:3000/webhooks/cpg'
    const sent = await runCli(['send', url], env())
    expect(sent.code).toBe(1)
    expect(sent.stderr).toMatch(
      /^tylt-relay: cannot reach http:\/\/relay\.tylt-test\.invalid:3000\/webhooks\/cpg: the name relay\.tylt-test\.invalid does not resolve \(DNS: (ENOTFOUND|EAI_AGAIN)\)\n$/,
    )
  })

  it('gives up after --timeout when the relay never answers, and says so', async () => {
    const sockets: Socket[] = []
    const silent = createTcpServer((socket) => sockets.push(socket))
    const port = await listen(silent)
    // Registered after listen's close, so it runs first: close waits for open connections.
    onTestFinished(() => {
      for (const s of sockets) s.destroy()
    })
    const url = `http://127.0.0.1:${port}/webhooks/cpg`
    expect(await runCli(['send', url, '--timeout', '300ms'], env())).toEqual({
      code: 1,
      stdout: '',
      stderr: `tylt-relay: cannot reach ${url}: no answer within 0.3 s\n`,
    })
  })

  it('sends a user and password of the URL as Basic authorization', async () => {
    const relay = await answering('accepted')
    const sent = await runCli(['send', `http://ops:s3cret@127.0.0.1:${relay.port}/webhooks/cpg`], env())
    expect([sent.code, sent.stdout]).toEqual([0, '200 ok (accepted)\n'])
    expect(relay.got[0]!.authorization).toBe(`Basic ${Buffer.from('ops:s3cret').toString('base64')}`)
    expect(sent.stdout + sent.stderr).not.toContain('s3cret')
  })

  it('never prints the password of a URL', async () => {
    const port = await freePort()
    const sent = await runCli(['send', `http://user:hunter2@127.0.0.1:${port}/webhooks/cpg`], env())
    expect(sent.stderr).toBe(
      `tylt-relay: cannot reach http://127.0.0.1:${port}/webhooks/cpg: nothing listens on 127.0.0.1:${port}\n`,
    )
  })
})
