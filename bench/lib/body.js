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
