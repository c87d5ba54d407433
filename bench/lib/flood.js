// The forged-flood generator: as many forged requests as the relay answers, from `connections` kept-alive
// connections bound to `localAddress` (another loopback address than the genuine load's, so the relay can
// tell the two sources apart, as it would tell an attacker from Tylt). Runs as its own process on the load
// core. It builds its body and prints `BENCH_FLOOD_READY`, floods from the line `go` on stdin until the line
// `stop` (or the end of stdin), printing one `BENCH_FLOOD {json}` line at each `mark`, at each `pause` and
// at the stop, for what was sent since the previous one (a pause ends when every connection's request in
// flight has settled; `go` sends again): the requests sent, the answers by status ("reset" when the relay
// closed the connection under a request, "held" when `abortMs` passed without an answer and the request was
// dropped), the seconds it covers and the rate. Starting it ahead keeps node's start-up and the body's
// construction out of the measured window. Argument: {url, connections, bytes, localAddress, abortMs?}.
import { request } from 'node:http'
import { createInterface } from 'node:readline'

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
  let requests = 0
  let stopped = false
  const one = () =>
    new Promise((resolve) => {
      let settled = false
      const settle = (key) => {
        if (settled) return
        settled = true
        answers[key] = (answers[key] ?? 0) + 1
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
      requests++
      req.end(body)
    })
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]()
  process.stdout.write('BENCH_FLOOD_READY\n')
  while (!stopped) {
    const { value, done } = await lines.next()
    if (done) return
    if (value.trim() === 'go') break
  }
  let startedAt = performance.now()
  const tally = () => {
    const seconds = (performance.now() - startedAt) / 1000
    process.stdout.write(
      `BENCH_FLOOD ${JSON.stringify({ requests, seconds, rps: requests / seconds, answers })}\n`,
    )
    requests = 0
    for (const key of Object.keys(answers)) delete answers[key]
    startedAt = performance.now()
  }
  // While paused, `resumed` is the promise each worker waits on and `resume` settles it; `idle` counts the
  // workers waiting, so that the pause's tally is printed only once nothing is in flight.
  let resumed
  let resume
  let idle = 0
  let pausedWhenIdle
  const worker = async () => {
    while (!stopped) {
      if (resumed !== undefined) {
        idle++
        if (idle === options.connections) pausedWhenIdle?.()
        await resumed
        idle--
        continue
      }
      await one()
    }
  }
  const workers = Promise.all(Array.from({ length: options.connections }, worker))
  for (;;) {
    const { value, done } = await lines.next()
    const command = done ? 'stop' : value.trim()
    if (command === 'stop') break
    if (command === 'mark') tally()
    if (command === 'pause' && resumed === undefined) {
      resumed = new Promise((resolve) => (resume = resolve))
      await new Promise((resolve) => (pausedWhenIdle = resolve))
      pausedWhenIdle = undefined
      tally()
    }
    if (command === 'go' && resumed !== undefined) {
      resumed = undefined
      resume()
      startedAt = performance.now()
    }
  }
  stopped = true
  resumed = undefined
  resume?.()
  await workers
  tally()
  process.exit(0)
}

if (process.argv[2] !== undefined) await main(JSON.parse(process.argv[2]))
