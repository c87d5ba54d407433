import { request } from 'node:http'
import { connect, type Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { SECRETS, sign, sleep, tempDir } from '../helpers/index.js'
import { type RelayProcess, runCli, startRelay } from '../helpers/relay-process.js'

// The relay runs with the production socket limits of src/constants.ts (headers 10 s, whole request 15 s,
// checked every second): each slow-client case must end by itself within those, plus a margin.
const HEADERS_DEADLINE_MS = 10_000 + 1_000 + 2_000
const REQUEST_DEADLINE_MS = 15_000 + 1_000 + 2_000
const FAST_MS = 3_000

interface Ending {
  readonly name: string
  /** Every status line the server wrote on this connection. */
  readonly statuses: number[]
  /** Time from connecting to the server closing (or resetting) the connection. */
  readonly ms: number
}

/** Opens a raw connection, lets `attack` write to it, and resolves when the server ends it. */
function rawConnection(relay: RelayProcess, name: string, attack: (socket: Socket) => void): Promise<Ending> {
  return new Promise((resolve) => {
    const started = Date.now()
    const socket = connect(relay.port, '127.0.0.1')
    let received = ''
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      received += chunk
    })
    socket.on('error', () => undefined) // a reset is one way of being closed
    socket.on('close', () => {
      const statuses = [...received.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]))
      resolve({ name, statuses, ms: Date.now() - started })
    })
    socket.on('connect', () => attack(socket))
  })
}

/** Writes `pieces` one per interval for as long as the socket stays open. */
function trickle(socket: Socket, pieces: () => string, everyMs: number) {
  const timer = setInterval(() => {
    if (socket.writable) socket.write(pieces())
  }, everyMs)
  socket.on('close', () => clearInterval(timer))
}

const signedBody = (orderId: string) => {
  const body = Buffer.from(JSON.stringify({ type: 'pay-in', data: { orderId, status: 'Completed' } }))
  return { body, signature: sign(SECRETS.cpg, body) }
}

const head = (extra: string) =>
  `POST /webhooks/cpg HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${extra}`

/** A genuine Tylt callback on a fresh connection, as Tylt would send it. */
function genuine(
  relay: RelayProcess,
  orderId: string,
): Promise<{ status: number; body: string; ms: number }> {
  const { body, signature } = signedBody(orderId)
  const started = Date.now()
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: relay.port,
        method: 'POST',
        path: '/webhooks/cpg',
        agent: false,
        headers: { 'content-type': 'application/json', 'x-tlp-signature': signature },
        timeout: 5_000,
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (text += chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, ms: Date.now() - started }))
      },
    )
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end(body)
  })
}

/** Sends genuine callbacks every `everyMs` until `stop()` resolves; collects every answer. */
function genuineTraffic(relay: RelayProcess, everyMs: number) {
  const answers: { orderId: string; status: number; body: string; ms: number }[] = []
  const failures: string[] = []
  let running = true
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const orderId = `genuine-${i}`
      genuine(relay, orderId).then(
        (answer) => answers.push({ orderId, ...answer }),
        (err: Error) => failures.push(`${orderId}: ${err.message}`),
      )
      await sleep(everyMs)
    }
  })()
  return {
    answers,
    failures,
    async stop() {
      running = false
      await loop
      await sleep(500)
    },
  }
}

describe('raw-socket abuse against a running relay', () => {
  it('ends every abusive connection in bounded time, stores none of it, and keeps answering Tylt', async () => {
    const env = { TYLT_SECRET_CPG: SECRETS.cpg, DATA_DIR: tempDir(), LOG_LEVEL: 'warn' }
    const relay = await startRelay(env)
    for (let i = 0; i < 30; i++) expect((await genuine(relay, `warm-${i}`)).status).toBe(200)
    const rssBefore = relay.rssKiB()
    const traffic = genuineTraffic(relay, 50)

    const big = signedBody('attack-big')
    const half = signedBody('attack-half')
    const lie = signedBody('attack-lie')
    const hugeChunk = 'a'.repeat(64 * 1024)
    const oversized = Buffer.from(
      JSON.stringify({ data: { orderId: 'attack-chunked', pad: 'x'.repeat(400_000) } }),
    )
    const attacks: Promise<Ending>[] = [
      // Headers that never finish: one more header line a second, forever.
      rawConnection(relay, 'slowloris', (s) => {
        s.write(head(''))
        let i = 0
        trickle(s, () => `X-Slow-${i++}: 1\r\n`, 1_000)
      }),
      // Headers one byte at a time, never reaching the end of the request line.
      rawConnection(relay, 'slow request line', (s) => {
        const line = 'POST /webhooks/cpg HTTP/1.1\r\n'
        let i = 0
        trickle(s, () => line[i++ % line.length]!, 500)
      }),
      // A correctly signed body that stops in the middle.
      rawConnection(relay, 'body stops midway', (s) => {
        s.write(head(`x-tlp-signature: ${half.signature}\r\nContent-Length: ${half.body.length}\r\n\r\n`))
        s.write(half.body.subarray(0, half.body.length >> 1))
      }),
      // A body sent a byte a second: never idle long, never complete within the request timeout.
      rawConnection(relay, 'body trickle', (s) => {
        s.write(head(`x-tlp-signature: ${half.signature}\r\nContent-Length: ${half.body.length}\r\n\r\n`))
        let i = 0
        trickle(s, () => String.fromCharCode(half.body[i++]!), 1_000)
      }),
      // Content-Length larger than what is sent: the whole signed body, then silence.
      rawConnection(relay, 'Content-Length above the body', (s) => {
        s.write(head(`x-tlp-signature: ${lie.signature}\r\nContent-Length: ${lie.body.length + 100}\r\n\r\n`))
        s.write(lie.body)
      }),
      // Content-Length smaller than what is sent: the rest is not a request.
      rawConnection(relay, 'Content-Length below the body', (s) => {
        s.write(head(`x-tlp-signature: ${lie.signature}\r\nContent-Length: 10\r\n\r\n`))
        s.write(lie.body)
      }),
      // Chunked, signed, and past BODY_LIMIT (256 KiB).
      rawConnection(relay, 'chunked past BODY_LIMIT', (s) => {
        s.write(
          head(`x-tlp-signature: ${sign(SECRETS.cpg, oversized)}\r\nTransfer-Encoding: chunked\r\n\r\n`),
        )
        for (let at = 0; at < oversized.length; at += 32 * 1024) {
          const chunk = oversized.subarray(at, at + 32 * 1024)
          s.write(`${chunk.length.toString(16)}\r\n`)
          s.write(chunk)
          s.write('\r\n')
        }
        s.write('0\r\n\r\n')
      }),
      // Chunked and endless: 64 KiB chunks until the server hangs up.
      rawConnection(relay, 'endless chunks', (s) => {
        s.write(head(`x-tlp-signature: ${big.signature}\r\nTransfer-Encoding: chunked\r\n\r\n`))
        trickle(s, () => `${hugeChunk.length.toString(16)}\r\n${hugeChunk}\r\n`, 5)
      }),
      // 100 KB of headers.
      rawConnection(relay, '100 KB of headers', (s) => {
        s.write(head(`${`X-Padding: ${'p'.repeat(1_000)}\r\n`.repeat(100)}\r\n`))
      }),
      // A Content-Length that is not a number, and two that disagree (request smuggling material).
      rawConnection(relay, 'bad Content-Length', (s) => {
        s.write(head(`x-tlp-signature: ${lie.signature}\r\nContent-Length: 12abc\r\n\r\n`))
        s.write(lie.body)
      }),
      rawConnection(relay, 'two Content-Lengths', (s) => {
        s.write(
          head(
            `x-tlp-signature: ${lie.signature}\r\nContent-Length: 10\r\nContent-Length: ${lie.body.length}\r\n\r\n`,
          ),
        )
        s.write(lie.body)
      }),
    ]
    // Hundreds of connections that say nothing at all.
    const idle = Array.from({ length: 300 }, (_, i) => rawConnection(relay, `idle-${i}`, () => undefined))

    const endings = await Promise.all(attacks)
    const idleEndings = await Promise.all(idle)
    const rssAfter = relay.rssKiB()
    await traffic.stop()

    if (process.env.ABUSE_DEBUG) {
      console.log({
        rssBefore,
        rssAfter,
        genuine: traffic.answers.length,
        endings,
        idleMaxMs: Math.max(...idleEndings.map((e) => e.ms)),
      })
    }
    const byName = Object.fromEntries(endings.map((e) => [e.name, e]))
    const expectEnding = (name: string, status: number, withinMs: number) => {
      const ending = byName[name]!
      expect(ending.statuses, name).toEqual([status])
      expect(ending.ms, name).toBeLessThan(withinMs)
    }
    expectEnding('slowloris', 408, HEADERS_DEADLINE_MS)
    expectEnding('slow request line', 408, HEADERS_DEADLINE_MS)
    expectEnding('body stops midway', 408, REQUEST_DEADLINE_MS)
    expectEnding('body trickle', 408, REQUEST_DEADLINE_MS)
    expectEnding('Content-Length above the body', 408, REQUEST_DEADLINE_MS)
    expectEnding('Content-Length below the body', 400, FAST_MS)
    expectEnding('chunked past BODY_LIMIT', 413, FAST_MS)
    expectEnding('endless chunks', 413, FAST_MS)
    expectEnding('100 KB of headers', 431, FAST_MS)
    expectEnding('bad Content-Length', 400, FAST_MS)
    expectEnding('two Content-Lengths', 400, FAST_MS)
    // The slow ones were not cut by something faster than the limits (they really were slow clients).
    expect(byName['body trickle']!.ms).toBeGreaterThan(14_000)
    expect(byName.slowloris!.ms).toBeGreaterThan(9_000)
    for (const ending of idleEndings) {
      expect(ending.statuses.every((s) => s === 408)).toBe(true)
      expect(ending.ms).toBeLessThan(HEADERS_DEADLINE_MS)
    }

    // Tylt kept getting "ok", promptly, all along.
    expect(traffic.failures).toEqual([])
    expect(traffic.answers.length).toBeGreaterThan(200)
    for (const answer of traffic.answers) expect([answer.status, answer.body]).toEqual([200, 'ok'])
    const slowest = Math.max(...traffic.answers.map((a) => a.ms))
    expect(slowest).toBeLessThan(2_000)

    // Memory: bounded (a relay that buffered abusive bodies or kept dead sockets would grow far more).
    expect(rssAfter - rssBefore, `RSS ${rssBefore} -> ${rssAfter} KiB`).toBeLessThan(64 * 1024)

    // Nothing but the genuine callbacks is in the store.
    const listed = await runCli(['events', 'list', '--json', '--limit', '100000'], env)
    const stored = (JSON.parse(listed.stdout) as { orderId: string }[]).map((e) => e.orderId).sort()
    const okOrders = [
      ...traffic.answers.map((a) => a.orderId),
      ...Array.from({ length: 30 }, (_, i) => `warm-${i}`),
    ]
    expect(stored).toEqual(okOrders.sort())
    expect(stored.some((id) => id.startsWith('attack'))).toBe(false)
    expect(relay.child.exitCode).toBeNull()
  }, 60_000)
})
