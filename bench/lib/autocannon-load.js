// The fallback load generator (when wrk is absent), and the exact-count sender of the drain test. Runs as
// its own process, pinned to the load core, and prints one `BENCH_RESULT {json}` line like load.lua.
// Argument: a JSON object {url, connections, durationS?, amount?, rate?, secret, nonce}.
import autocannon from 'autocannon'
import { signedBodies } from './body.js'

const options = JSON.parse(process.argv[2])
const next = signedBodies(options.secret, options.nonce, 1)
let sent = 0

const instance = autocannon({
  url: options.url,
  connections: options.connections,
  ...(options.amount ? { amount: options.amount } : { duration: options.durationS }),
  ...(options.rate ? { overallRate: options.rate } : {}),
  method: 'POST',
  requests: [
    {
      setupRequest(request) {
        const { body, signature } = next()
        sent++
        return {
          ...request,
          body,
          headers: { 'content-type': 'application/json', 'x-tlp-signature': signature },
        }
      },
    },
  ],
})
instance.on('done', (result) => {
  const ms = (value) => Math.round(value * 1000)
  const summary = {
    requests: result.requests.total,
    sent,
    durationUs: Math.round(result.duration * 1e6),
    non2xx: result.non2xx,
    socketErrors: result.errors - result.timeouts,
    timeouts: result.timeouts,
    p50Us: ms(result.latency.p50),
    p99Us: ms(result.latency.p99),
    maxUs: ms(result.latency.max),
    meanUs: ms(result.latency.average),
  }
  process.stdout.write(`BENCH_RESULT ${JSON.stringify(summary)}\n`)
})
