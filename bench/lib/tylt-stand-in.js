// A stand-in for Tylt's merchant API for the reconcile row, run as its own process on the load core: it
// answers the CPG pay-in query (GET /transactions/merchant/getPayinTransactionInformation?orderId=...) for
// any order with `{"msg":"","data":{...}}`, the order still `Pending`, so every order stays open and the
// relay's reconcile keeps finding due ones. It checks X-TLP-APIKEY and X-TLP-SIGNATURE (HMAC-SHA256 of
// `JSON.stringify(params)`, the form reconcile signs first: docs/reconcile.md) and counts what it answered,
// which `GET /bench/counts` reports.
import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer } from 'node:http'
import { fileURLToPath } from 'node:url'
import { openOrderData } from './body.js'
import { LOAD_CORE } from './load.js'
import { assertPortsFree, start, stop, waitUntil } from './proc.js'

export const PAY_IN_QUERY = '/transactions/merchant/getPayinTransactionInformation'
export const API_KEY = 'bench-apikey-3c9d07'

function serve({ port, apiKey, secret }) {
  const counts = { answered: 0, refused: 0, other: 0 }
  const signed = (params, header) => {
    const expected = Buffer.from(createHmac('sha256', secret).update(JSON.stringify(params)).digest('hex'))
    const given = Buffer.from(String(header ?? ''))
    return given.length === expected.length && timingSafeEqual(given, expected)
  }
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stand-in')
    const send = (status, body) => res.writeHead(status, { 'content-type': 'application/json' }).end(body)
    if (url.pathname === '/bench/counts') return send(200, JSON.stringify(counts))
    if (req.method !== 'GET' || url.pathname !== PAY_IN_QUERY) {
      counts.other++
      return send(404, '{"msg":"Not found","data":null}')
    }
    const params = Object.fromEntries(url.searchParams)
    if (req.headers['x-tlp-apikey'] !== apiKey || !signed(params, req.headers['x-tlp-signature'])) {
      counts.refused++
      return send(401, '{"msg":"Invalid signature","data":null}')
    }
    counts.answered++
    send(200, JSON.stringify({ msg: '', data: openOrderData(String(params.orderId)) }))
  })
  server.listen(port, '127.0.0.1')
}

/** The stand-in started on `port` and answering; `counts()` reads its counters, `stop()` ends it. */
export async function startTyltStandIn(port, secret) {
  await assertPortsFree(port)
  const options = JSON.stringify({ port, apiKey: API_KEY, secret })
  const child = start(process.execPath, [fileURLToPath(import.meta.url), options], { core: LOAD_CORE })
  const url = `http://127.0.0.1:${port}`
  const counts = async () =>
    (await fetch(`${url}/bench/counts`, { signal: AbortSignal.timeout(2_000) })).json()
  await waitUntil(`Tylt stand-in on ${port}`, async () => (await counts()).answered >= 0, { child })
  return { url, counts, stop: () => stop(child) }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) serve(JSON.parse(process.argv[2]))
