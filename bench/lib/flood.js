// The forged-flood generator: as many forged requests as the relay answers, from `connections` kept-alive
// connections bound to `localAddress` (another loopback address than the genuine load's, so the relay can
// tell the two sources apart, as it would tell an attacker from Tylt). Runs as its own process on the load
// core and prints one `BENCH_FLOOD {json}` line: the answers by status ("reset" when the relay closed the
// connection under a request, "held" when `abortMs` passed without an answer and the request was dropped)
// and the rate. Argument: {url, connections, durationS, bytes, localAddress, abortMs?}.
import { request } from 'node:http'

/** A JSON body of exactly `bytes` bytes made of many small objects, the costliest kind to parse. */
export function forgedBody(bytes) {
  const head = '{"type":"pay-in","data":{"items":['
  const item = '{"id":1,"v":"ab"},'
  const tail = ']},"pad":""}'
  const count = Math.max(1, Math.floor((bytes - head.length - tail.length) / item.length))
  const items = item.repeat(count).slice(0, -1)
  const pad = 'x'.repeat(Math.max(0, bytes - head.length - items.length - tail.length))
  return Buffer.from(`${head}${items}]},"pad":"${pad}"}`)
}

async function main(options) {
  const body = forgedBody(options.bytes)
  const headers = { 'content-type': 'application/json', 'x-tlp-signature': 'ab'.repeat(32) }
  const answers = {}
  const deadline = Date.now() + options.durationS * 1000
  let requests = 0
  const one = () =>
    new Promise((resolve) => {
      let settled = false
      const settle = (key) => {
        if (settled) return
        settled = true
        answers[key] = (answers[key] ?? 0) + 1
        requests++
        resolve()
      }
      const req = request(
        options.url,
        { method: 'POST', localAddress: options.localAddress, headers },
        (res) => {
          res.resume()
          res.on('end', () => settle(String(res.statusCode)))
          res.on('error', () => settle(String(res.statusCode)))
        },
      )
      req.on('error', () => settle('reset'))
      // An attacker that does not wait for answers the relay holds back.
      if (options.abortMs)
        req.setTimeout(options.abortMs, () => {
          settle('held')
          req.destroy()
        })
      req.end(body)
    })
  const startedAt = performance.now()
  const worker = async () => {
    while (Date.now() < deadline) await one()
  }
  await Promise.all(Array.from({ length: options.connections }, worker))
  const seconds = (performance.now() - startedAt) / 1000
  process.stdout.write(`BENCH_FLOOD ${JSON.stringify({ requests, rps: requests / seconds, answers })}\n`)
}

if (process.argv[2] !== undefined) await main(JSON.parse(process.argv[2]))
