import type { EventStore } from '../core/event-store.js'
import { type OrderLedger, type OrderRecord, orderKeyOf } from '../core/order-ledger.js'
import { extractMetadata, type Metadata } from '../event/extract-metadata.js'
import { finalityOf } from '../event/finality-table.js'
import { QUERY_ENDPOINTS } from '../event/query-endpoints.js'
import { type AskContext, askTylt } from './ask-tylt.js'
import { type Action, backoffMs, type OrderResult } from './order-result.js'
import { reconcileEvent } from './reconcile-event.js'
import type { CheckedOrder } from './unseen-order.js'

export interface CheckContext extends AskContext {
  readonly store: EventStore
  readonly ledger: OrderLedger
  readonly dryRun: boolean
}

/** Tylt's state in an answer, read as a callback's would be; finality by the ledger's product if need be. */
function readAnswer(order: OrderRecord, body: Buffer) {
  const read = extractMetadata(body)
  if (read.status === null) return undefined
  const final = read.product === 'unknown' ? finalityOf(order.product, read.status) : read.final
  return { ...read, status: read.status, final }
}

type Found =
  | { readonly kind: 'state'; readonly endpoint: string; readonly status: number; readonly body: Buffer }
  | {
      readonly kind: Action
      readonly endpoint: string | null
      readonly status: number | null
      readonly detail: string
    }

/** Asks each of the product's queries in turn until one answers with a state. */
async function findState(ctx: CheckContext, order: OrderRecord): Promise<Found> {
  const endpoints = QUERY_ENDPOINTS[order.product] ?? []
  let last: Found = { kind: 'unsupported', endpoint: null, status: null, detail: 'no query for this product' }
  for (const endpoint of endpoints) {
    const id = order[endpoint.id]
    if (id === null) continue
    const answer = await askTylt(ctx, endpoint.path, [[endpoint.param, id]])
    const name = `GET ${endpoint.path}`
    const { status } = answer
    if (status >= 200 && status < 300 && readAnswer(order, answer.body) !== undefined) {
      ctx.gate.succeeded()
      return { kind: 'state', endpoint: name, status, body: answer.body }
    }
    if (status === 401 || status === 403)
      return { kind: 'auth', endpoint: name, status, detail: 'Tylt refused the API key or signature' }
    if (status === 0 || status === 429 || status >= 500) {
      const opened = status === 429 ? false : ctx.gate.failed(ctx.now())
      const why = status === 0 ? (answer.failure ?? 'no answer') : `HTTP ${status}`
      return {
        kind: 'error',
        endpoint: name,
        status: status || null,
        detail: opened ? `${why}; circuit open` : why,
      }
    }
    ctx.gate.succeeded()
    last = { kind: 'not-found', endpoint: name, status, detail: 'Tylt knows no such order, or no state yet' }
  }
  return last
}

/**
 * An order the relay never saw, with the ids Tylt's answer gives and the key the ledger will file its event
 * under: its event then has the id it would have had, had a first callback been seen.
 */
function withAnswerIds(order: OrderRecord, read: Metadata): OrderRecord {
  const orderId = read.orderId ?? order.orderId
  const merchantOrderId = read.merchantOrderId ?? order.merchantOrderId
  const orderKey = orderKeyOf({ orderId, merchantOrderId }) ?? order.orderKey
  return { ...order, orderId, merchantOrderId, orderKey }
}

/**
 * Checks one order: asks Tylt, and when its state differs from the ledger's, puts one event on the ordinary
 * durable path (unless `dryRun`). Records the check and schedules the next with backoff; an unseen order
 * has no ledger row to record in, and gets one only from its committed event, as a callback's would.
 */
export async function checkOrder(ctx: CheckContext, checked: CheckedOrder): Promise<OrderResult> {
  const { unseen, ...order } = checked
  const record = !ctx.dryRun && unseen !== true
  const base = {
    service: order.service,
    product: order.product,
    orderKey: order.orderKey,
    previous: order.status,
  }
  const found = await findState(ctx, order)
  const now = ctx.now()
  if (found.kind !== 'state') {
    if (record && found.kind !== 'auth')
      await ctx.ledger.recordCheck(order, {
        nextCheck: found.kind === 'unsupported' ? null : now + backoffMs(order.checks + 1),
        checks: order.checks + 1,
        lastResult: found.kind,
      })
    return {
      ...base,
      current: null,
      action: found.kind,
      httpStatus: found.status,
      endpoint: found.endpoint,
      detail: found.detail,
    }
  }
  const read = readAnswer(order, found.body)!
  const subject = unseen === true ? withAnswerIds(order, read) : order
  const answer = {
    ...base,
    orderKey: subject.orderKey,
    current: read.status,
    httpStatus: found.status,
    endpoint: found.endpoint,
  }
  let action: Action = 'unchanged'
  let eventId: string | undefined
  if (read.status === order.status) action = 'unchanged'
  else if (order.final === 'true' && read.final !== 'true') action = 'anomaly'
  else if (ctx.dryRun) action = 'dry-run'
  else {
    const event = reconcileEvent(subject, read, found.body, now)
    eventId = event.id
    // A false append is this very event, emitted already (an earlier run, or another replica).
    action = (await ctx.store.append(event)) ? 'emitted' : 'unchanged'
    if (action === 'emitted') ctx.observer.onEmitted(order.service, order.product)
  }
  if (record)
    await ctx.ledger.recordCheck(order, {
      nextCheck: read.final === 'true' ? null : now + backoffMs(order.checks + 1),
      checks: order.checks + 1,
      lastResult: action,
    })
  return { ...answer, action, ...(eventId !== undefined && { eventId }) }
}
