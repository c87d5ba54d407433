// The same distinct signed bodies as load.lua, for the autocannon fallback and the drain test's sender:
// a Tylt CPG pay-in callback (~480 bytes) whose ids come from a run nonce and a counter.
import { createHmac, randomBytes } from 'node:crypto'

export const newNonce = () => randomBytes(4).toString('hex')

export function bodyFor(nonce, n, thread = 0) {
  const id = `${nonce}${thread.toString(16).padStart(4, '0')}${n.toString(16).padStart(20, '0')}`
  const uuid = `${id.slice(0, 8)}-${id.slice(8, 12)}-4${id.slice(13, 16)}-8${id.slice(17, 20)}-${id.slice(20, 32)}`
  return (
    `{"type":"pay-in","data":{"orderId":"${uuid}","merchantOrderId":"ORD-${n}",` +
    '"baseAmount":120.5,"baseCurrency":"USDT","settledCurrency":"USDT","settledAmountRequested":120.5,' +
    '"settledAmountReceived":120.5,"commission":1.2,"network":"TRC20",' +
    '"depositAddress":"TQ5nVd3Hx8rY2kP7sW1mZ4cL9aB6eF3gJ0","status":"Completed",' +
    `"transactions":[{"transactionHash":"${id}${id}"}],"createdAt":"2026-11-20T10:00:00.000Z"}}`
  )
}

/** A request generator: each call returns the next distinct body and its `X-TLP-SIGNATURE`. */
export function signedBodies(secret, nonce, thread = 0) {
  let n = 0
  return () => {
    n++
    const body = bodyFor(nonce, n, thread)
    return { body, signature: createHmac('sha256', secret).update(body).digest('hex') }
  }
}

/** When the open orders of the reconcile row expired: long past, so each is due as soon as it is folded. */
const EXPIRED_AT = '2026-01-01T00:30:00.000Z'

/** Tylt's id of open order `n` of a run: a UUID from the nonce and the counter, as bodyFor makes them. */
export function openOrderId(nonce, n) {
  const id = `${nonce}ffff${n.toString(16).padStart(20, '0')}`
  return `${id.slice(0, 8)}-${id.slice(8, 12)}-4${id.slice(13, 16)}-8${id.slice(17, 20)}-${id.slice(20, 32)}`
}

/**
 * The `data` of a CPG pay-in that is still `Pending` and whose `expiresAt` is past: a callback's, and the
 * same object in the answer of Tylt's pay-in query for the order (docs/reconcile.md).
 */
export const openOrderData = (orderId) => ({
  orderId,
  merchantOrderId: `ORD-${orderId}`,
  baseAmount: 120.5,
  baseCurrency: 'USDT',
  settledCurrency: 'USDT',
  settledAmountRequested: 120.5,
  settledAmountReceived: 0,
  commission: 0,
  network: 'TRC20',
  depositAddress: 'TQ5nVd3Hx8rY2kP7sW1mZ4cL9aB6eF3gJ0',
  status: 'Pending',
  transactions: [],
  createdAt: '2026-01-01T00:00:00.000Z',
  expiresAt: EXPIRED_AT,
})

/** The signed callback that opens order `n` of a run. */
export function openOrderCallback(secret, nonce, n) {
  const body = JSON.stringify({ type: 'pay-in', data: openOrderData(openOrderId(nonce, n)) })
  return { body, signature: createHmac('sha256', secret).update(body).digest('hex') }
}
