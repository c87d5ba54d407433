/**
 * Names of the metadata every forwarded message carries (docs/metadata.md). The same lower-case names are
 * used as HTTP headers, AMQP headers, NATS headers and Redis stream fields, so one consumer library can
 * read any downstream. `webhook-*` names follow Standard Webhooks (https://www.standardwebhooks.com/).
 */
export const HEADER_ID = 'webhook-id'
export const HEADER_TIMESTAMP = 'webhook-timestamp'
export const HEADER_SIGNATURE = 'webhook-signature'
export const HEADER_SERVICE = 'tylt-service'
export const HEADER_TYLT_SIGNATURE = 'tylt-signature'
export const HEADER_ORDER_ID = 'tylt-order-id'
export const HEADER_MERCHANT_ORDER_ID = 'tylt-merchant-order-id'
export const HEADER_STATUS = 'tylt-status'
/** The product family read from the body's shape, and whether its state ends the payment. */
export const HEADER_PRODUCT = 'tylt-product'
export const HEADER_FINAL = 'tylt-final'
/** Acceptance time in seconds; kept apart from `webhook-timestamp`, which signing rewrites to send time. */
export const HEADER_ACCEPTED_AT = 'tylt-accepted-at'

/** `quarantine` on an event accepted later from quarantine (`tylt-relay quarantine retry`); absent otherwise. */
export const HEADER_RECOVERED = 'tylt-recovered'
/** The query reconcile asked Tylt (method and path, never the ids in its query). */
export const HEADER_RECONCILE_ENDPOINT = 'tylt-reconcile-endpoint'

/** Redis stream field holding the verified bytes. */
export const REDIS_BODY_FIELD = 'body'

export const CONTENT_TYPE_JSON = 'application/json'
export const CONTENT_TYPE_BYTES = 'application/octet-stream'

/** Default per-attempt bound for a downstream round trip. */
export const DEFAULT_SEND_TIMEOUT_MS = 10_000
