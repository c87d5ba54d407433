// The yardstick: bare node:http doing only what a webhook receiver must do, with nothing on top (no
// framework, no store, no logging): read the body, HMAC-SHA256 it, compare in constant time, answer `ok`.
import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer } from 'node:http'

const secret = process.env.BENCH_SECRET ?? ''
const port = Number(process.env.PORT ?? 3000)

const server = createServer((request, response) => {
  const chunks = []
  request.on('data', (chunk) => chunks.push(chunk))
  request.on('end', () => {
    const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)
    const header = request.headers['x-tlp-signature']
    const expected = typeof header === 'string' ? Buffer.from(header.trim(), 'hex') : Buffer.alloc(0)
    const digest = createHmac('sha256', secret).update(body).digest()
    const ok = expected.length === digest.length && timingSafeEqual(digest, expected)
    response.writeHead(ok ? 200 : 401, { 'content-type': 'text/plain; charset=utf-8' })
    response.end(ok ? 'ok' : 'invalid signature')
  })
})
server.listen(port, '127.0.0.1', () => process.stdout.write(`baseline listening on ${port}\n`))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
