import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { EventStore } from '../core/event-store.js'
import type { OrderLedger, OrderRecord } from '../core/order-ledger.js'
import type { CheckOutcome, OrdersDeps } from './console-deps.js'
import type { RouteKit } from './console-routes.js'
import { orderHistory } from './order-history.js'
import { type OrderView, orderPage } from './order-page.js'
import { ORDERS_SHOWN, type OrdersView, orderLink, ordersPage } from './orders-page.js'
import { command, type Loaded, screen } from './screen.js'

const keyOf = (o: OrderRecord) => `${o.service}\0${o.product}\0${o.orderKey}`

/**
 * The ledger's orders one of whose ids starts with `query`, without regard to case: the store's order
 * filter finds the events (as the events table does), the ledger their orders.
 */
async function search(store: EventStore, ledger: OrderLedger, query: string): Promise<OrderRecord[]> {
  const events = await store.list({ order: query, limit: ORDERS_SHOWN })
  const named = new Map<string, { id: string; service: string }>()
  for (const e of events) {
    const id = e.orderId ?? e.merchantOrderId
    if (id !== null) named.set(`${e.service}\0${id}`, { id, service: e.service })
  }
  const found = new Map<string, OrderRecord>()
  const lists = await Promise.all([
    ledger.find(query),
    ...[...named.values()].map((n) => ledger.find(n.id, n.service)),
  ])
  for (const order of lists.flat()) found.set(keyOf(order), order)
  return [...found.values()].sort((a, b) => a.firstSeen - b.firstSeen).slice(0, ORDERS_SHOWN)
}

/** Why an order cannot be checked from the console; null when it can. */
const cannotCheck = (orders: OrdersDeps, o: OrderRecord): string | null =>
  orders.checkable.includes(o.service)
    ? null
    : `reconcile is not configured for service ${o.service} (no API key: TYLT_APIKEY_<NAME>)`

function checked(o: OrderRecord, outcome: CheckOutcome): string {
  const name = `Order ${o.orderKey}`
  const detail = outcome.detail === undefined ? '' : `: ${outcome.detail}`
  switch (outcome.action) {
    case 'emitted':
      return `${name}: Tylt says ${outcome.current}; the new state was stored and is queued for delivery.`
    case 'unchanged':
      return `${name}: unchanged, Tylt still says ${outcome.current ?? o.status}.`
    case 'error':
    case 'auth':
      return `${name} not checked: Tylt could not be asked for service ${o.service}${detail}.`
    default:
      return `${name}: ${outcome.action}${detail}.`
  }
}

export function ordersRoutes(app: FastifyInstance, kit: RouteKit): void {
  const { deps } = kit
  const orders = deps.orders
  if (orders === undefined) return
  const now = deps.now ?? Date.now
  const loadOrder = async (request: FastifyRequest): Promise<Loaded<OrderRecord>> => {
    const { service, product, key } = request.params as { service: string; product: string; key: string }
    const ledger = await orders.ledger()
    const order = (await ledger.find(key, service)).find((o) => o.product === product && o.orderKey === key)
    return order === undefined
      ? { missing: `No order ${key} of ${service} (${product}) in the ledger.` }
      : { data: order }
  }
  screen(
    app,
    kit,
    '/orders',
    async (request): Promise<Loaded<OrdersView>> => {
      const q = (request.query as Record<string, unknown>).q
      const query = typeof q === 'string' && q.trim() !== '' ? q.trim() : null
      const ledger = await orders.ledger()
      const at = now()
      const [found, open, due, abandoned] = await Promise.all([
        query === null ? null : search(deps.store, ledger, query),
        ledger.open(ORDERS_SHOWN),
        ledger.due(at, ORDERS_SHOWN),
        ledger.abandoned(ORDERS_SHOWN),
      ])
      return { data: { now: at, query, found, open, due, abandoned } }
    },
    { page: ordersPage, json: (d) => d },
  )
  screen(
    app,
    kit,
    '/orders/:service/:product/:key',
    async (request): Promise<Loaded<OrderView>> => {
      const loaded = await loadOrder(request)
      if ('missing' in loaded) return loaded
      const order = loaded.data
      const history = await orderHistory(deps.store, order)
      return { data: { order, history, cannotCheck: cannotCheck(orders, order) } }
    },
    { page: orderPage, json: (d) => d },
  )
  command(app, kit, '/orders/:service/:product/:key/check', async (request) => {
    const loaded = await loadOrder(request)
    if ('missing' in loaded) return loaded
    const order = loaded.data
    const to = orderLink(order)
    const why = cannotCheck(orders, order)
    if (why !== null)
      return { flash: `Order ${order.orderKey} not checked: ${why}.`, to, result: { action: 'skipped' } }
    const outcome = await orders.checkNow(order)
    request.log.info(
      { service: order.service, product: order.product, order: order.orderKey, action: outcome.action },
      'console: order checked with Tylt',
    )
    return { flash: checked(order, outcome), to, result: { ...outcome } }
  })
}
