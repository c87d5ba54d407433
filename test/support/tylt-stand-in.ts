import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { fixture } from '../helpers/fixtures.js'

/**
 * A stand-in for Tylt's merchant API, for tests only: the state queries of each product family, with their
 * documented response shapes, checking `X-TLP-APIKEY` and `X-TLP-SIGNATURE` in either GET signing form. Its
 * orders start from the callback fixtures the metadata tests read (test/fixtures), so the two cannot drift.
 * It can move an order without a callback (a lost callback), send a callback (never retried) and fail on
 * demand.
 */

export type Family = 'cpg-pay-in' | 'cpg-payout' | 'upi' | 'pix' | 'eu'
export type GetSigningForm = 'json' | 'query'

export interface StandInService {
  readonly name: string
  readonly apiKey: string
  readonly secret: string
  /** What a GET signs: `JSON.stringify(params)` (the newer pages) or the query string (the older ones). */
  readonly signing?: GetSigningForm
}

export interface LoggedRequest {
  readonly at: number
  readonly method: string
  readonly path: string
  readonly query: string
  /** The service the API key named; null for an unknown key. */
  readonly service: string | null
  readonly signatureValid: boolean
  readonly status: number
  readonly headers: IncomingMessage['headers']
}

export interface Fault {
  readonly service?: string
  readonly path?: string
  readonly status?: number
  readonly headers?: Record<string, string>
  readonly body?: string
  /** Answer nothing: the request hangs until the stand-in closes. */
  readonly hang?: boolean
  /** Answer as usual, this much later (no status: the fault only slows the answer). */
  readonly delayMs?: number
  /** How many matching requests it answers; then it is gone. */
  times: number
}

interface Order {
  readonly service: string
  readonly family: Family
  /** The fixture's parsed body; its state is changed in place. */
  readonly callback: Record<string, unknown>
}

const FIXTURES: Record<Family, string> = {
  'cpg-pay-in': 'cpg-pay-in.json',
  'cpg-payout': 'cpg-payout.json',
  upi: 'upi-trade.json',
  pix: 'pix-pay-in.json',
  eu: 'eu-pay-in.json',
}

const QUERIES: Record<string, readonly Family[]> = {
  '/transactions/merchant/getPayinTransactionInformation': ['cpg-pay-in', 'upi', 'pix'],
  '/transactions/merchant/getPayoutTransactionInformation': ['cpg-payout'],
  '/p2pRampsMerchant/getInstanceDetails': ['upi', 'pix'],
  '/v2/prime-fiat/instance/details': ['eu'],
}

type Data = Record<string, unknown>
const dataOf = (order: Order) => order.callback.data as Data

function setState(order: Order, state: string | number): void {
  const data = dataOf(order)
  if (order.family === 'cpg-pay-in' || order.family === 'cpg-payout') data.status = state
  else if (order.family === 'eu') (data.eventDetails as Data).eventId = state
  else ((data.trade as Data).event as Data).id = state
}

/** The query answer: `{"msg":"","data":{…}}`; EU's instance details are flat (`eventId` beside the ids). */
function answerOf(order: Order): string {
  const data = dataOf(order)
  if (order.family !== 'eu') return JSON.stringify({ msg: '', data })
  const { eventDetails, userDetails: _personal, ...rest } = data
  const event = eventDetails as Data
  return JSON.stringify({
    msg: '',
    data: {
      instanceId: rest.instanceId,
      merchantOrderId: rest.merchantOrderId,
      isBuying: rest.isBuying,
      eventId: event.eventId,
      eventDescription: event.description,
      fiatAmount: rest.fiatAmount,
      fiatCurrency: rest.fiatCurrency,
    },
  })
}

const hmac = (secret: string, text: string) => createHmac('sha256', secret).update(text).digest('hex')

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

export interface TyltStandIn {
  readonly url: string
  readonly requests: LoggedRequest[]
  /** Adds an order of `family`, from its fixture, in `state`; returns its key (Tylt's id). */
  addOrder(
    service: string,
    family: Family,
    state: string | number,
    ids?: { orderId?: string; merchantOrderId?: string },
  ): string
  /** Moves an order to `state` without a callback: the queries show it at once. */
  move(key: string, state: string | number): void
  /** The bytes a query answers for the order now. */
  answer(key: string): Buffer
  /** The callback body for the order's current state. */
  callbackBody(key: string): Buffer
  /** Sends the order's callback once (Tylt never retries); resolves with the relay's status. */
  deliver(key: string, url: string): Promise<number>
  fail(fault: Fault): void
  setSigning(service: string, form: GetSigningForm): void
  /** Requests of one service (or any) to a path. */
  requestsFor(filter: { service?: string; path?: string; query?: string }): LoggedRequest[]
  close(): Promise<void>
}

export async function startTyltStandIn(services: readonly StandInService[]): Promise<TyltStandIn> {
  const orders = new Map<string, Order>()
  const requests: LoggedRequest[] = []
  const faults: Fault[] = []
  const signing = new Map(services.map((s) => [s.name, s.signing ?? 'json']))
  const sockets = new Set<Socket>()

  const keyOf = (order: Order) => {
    const data = dataOf(order)
    return String(data.orderId ?? data.instanceId)
  }

  function findOrder(service: string, path: string, params: URLSearchParams): Order | undefined {
    const families = QUERIES[path] ?? []
    const wanted = [...params.values()]
    return [...orders.values()].find((o) => {
      if (o.service !== service || !families.includes(o.family)) return false
      const data = dataOf(o)
      const ids = [data.orderId, data.instanceId, data.merchantOrderId].filter((v) => v !== undefined)
      return wanted.length === 1 && ids.includes(wanted[0] as string)
    })
  }

  function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://stand-in')
    const query = url.search.slice(1)
    const service = services.find((s) => s.apiKey === req.headers['x-tlp-apikey'])
    const form = service === undefined ? 'json' : signing.get(service.name)
    const signed = form === 'json' ? JSON.stringify(Object.fromEntries(url.searchParams)) : query
    const header = String(req.headers['x-tlp-signature'] ?? '')
    const signatureValid = service !== undefined && sameHex(header, hmac(service.secret, signed))
    const log = (status: number) =>
      requests.push({
        at: Date.now(),
        method: req.method ?? '',
        path: url.pathname,
        query,
        service: service?.name ?? null,
        signatureValid,
        status,
        headers: req.headers,
      })
    const send = (status: number, body: string, headers: Record<string, string> = {}) => {
      log(status)
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body)
    }
    const fault = faults.find(
      (f) =>
        f.times > 0 &&
        (f.service === undefined || f.service === service?.name) &&
        (f.path === undefined || f.path === url.pathname),
    )
    const respond = () => {
      if (service === undefined) return send(401, '{"msg":"Invalid API key","data":null}')
      if (!signatureValid) return send(401, '{"msg":"Invalid signature","data":null}')
      if (req.method !== 'GET' || !(url.pathname in QUERIES))
        return send(404, '{"msg":"Not found","data":null}')
      const order = findOrder(service.name, url.pathname, url.searchParams)
      if (order === undefined) return send(404, '{"msg":"Order not found","data":null}')
      send(200, answerOf(order))
    }
    if (fault === undefined) return respond()
    fault.times--
    if (fault.hang === true) return void log(0)
    if (fault.delayMs !== undefined && fault.status === undefined)
      return void setTimeout(respond, fault.delayMs)
    send(fault.status ?? 500, fault.body ?? '{"msg":"Internal error","data":null}', fault.headers)
  }

  const server: Server = createServer(handle)
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port

  const get = (key: string) => {
    const order = orders.get(key)
    if (order === undefined) throw new Error(`stand-in: no order ${key}`)
    return order
  }

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    addOrder(service, family, state, ids = {}) {
      const callback = JSON.parse(fixture(FIXTURES[family]).toString('utf8')) as Record<string, unknown>
      const order: Order = { service, family, callback }
      const data = dataOf(order)
      if (ids.orderId !== undefined) data[family.startsWith('cpg') ? 'orderId' : 'instanceId'] = ids.orderId
      if (ids.merchantOrderId !== undefined) data.merchantOrderId = ids.merchantOrderId
      setState(order, state)
      const key = keyOf(order)
      orders.set(key, order)
      return key
    },
    move: (key, state) => setState(get(key), state),
    answer: (key) => Buffer.from(answerOf(get(key))),
    callbackBody: (key) => Buffer.from(JSON.stringify(get(key).callback)),
    async deliver(key, url) {
      const order = get(key)
      const body = JSON.stringify(order.callback)
      const secret = services.find((s) => s.name === order.service)?.secret ?? ''
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-tlp-signature': hmac(secret, body) },
        body,
      })
      await response.arrayBuffer()
      return response.status
    },
    fail: (fault) => void faults.push(fault),
    setSigning: (service, form) => void signing.set(service, form),
    requestsFor: (filter) =>
      requests.filter(
        (r) =>
          (filter.service === undefined || r.service === filter.service) &&
          (filter.path === undefined || r.path === filter.path) &&
          (filter.query === undefined || r.query.includes(filter.query)),
      ),
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
