import type { RelayEvent } from '../core/event.js'
import { reconcileEndpoint } from '../event/query-endpoints.js'
import {
  HEADER_ACCEPTED_AT,
  HEADER_FINAL,
  HEADER_ID,
  HEADER_MERCHANT_ORDER_ID,
  HEADER_ORDER_ID,
  HEADER_PRODUCT,
  HEADER_RECONCILE_ENDPOINT,
  HEADER_RECOVERED,
  HEADER_SERVICE,
  HEADER_STATUS,
  HEADER_TIMESTAMP,
  HEADER_TYLT_SIGNATURE,
} from './headers.js'

/**
 * Values read from the body travel as HTTP/NATS headers, whose values must be visible ASCII: a control
 * character is rejected by fetch (and would break NATS framing), HTTP strips spaces at either end, and a
 * huge value can exceed a consumer's header limit. A value that could not arrive exactly as the body has it
 * is left out, on every downstream alike, never altered: an altered order id can name another order. The
 * consumer still has it in the body.
 */
const HEADER_SAFE = /^(?:[\x21-\x7e]|[\x21-\x7e][\x20-\x7e]{0,254}[\x21-\x7e])$/

function put(headers: Record<string, string>, name: string, value: string | null): void {
  if (value !== null && HEADER_SAFE.test(value)) headers[name] = value
}

/**
 * The metadata of one event (docs/metadata.md): ids and status read from the body are left out when
 * unknown; product and finality are always there (`unknown` when the body does not tell).
 */
export function metadataHeaders(event: RelayEvent): Record<string, string> {
  const seconds = String(Math.floor(event.acceptedAt / 1000))
  const headers: Record<string, string> = {
    [HEADER_ID]: event.id,
    [HEADER_TIMESTAMP]: seconds,
    [HEADER_ACCEPTED_AT]: seconds,
    [HEADER_SERVICE]: event.service,
    [HEADER_PRODUCT]: event.product,
    [HEADER_FINAL]: event.final,
  }
  // Tylt signs callbacks only: an answer to reconcile's query carries no signature of Tylt's.
  if (event.signature !== '') headers[HEADER_TYLT_SIGNATURE] = event.signature
  put(headers, HEADER_ORDER_ID, event.orderId)
  put(headers, HEADER_MERCHANT_ORDER_ID, event.merchantOrderId)
  put(headers, HEADER_STATUS, event.status)
  put(headers, HEADER_RECOVERED, event.recovered)
  if (event.recovered === 'reconcile')
    put(headers, HEADER_RECONCILE_ENDPOINT, reconcileEndpoint(event.product))
  return headers
}
