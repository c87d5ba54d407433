import createError from '@fastify/error'

/**
 * The one error catalog. Codes share the TYLT_ prefix; messages never carry a secret, a signature or a body.
 */
export const InvalidSignatureError = createError('TYLT_INVALID_SIGNATURE', 'invalid signature', 401)
export const UnknownServiceError = createError('TYLT_UNKNOWN_SERVICE', 'unknown service %s', 404)
export const StoreUnavailableError = createError(
  'TYLT_STORE_UNAVAILABLE',
  'the event could not be made durable: %s',
  503,
)
export const OverloadedError = createError('TYLT_OVERLOADED', 'overloaded, retry later', 503)
export const StoreClosedError = createError('TYLT_STORE_CLOSED', 'the store is closed', 503)
export const ConfigError = createError('TYLT_CONFIG', 'invalid configuration:\n%s', 500)
export const EventNotFoundError = createError('TYLT_EVENT_NOT_FOUND', 'no event with id %s', 404)
/** `tylt-relay send` got no answer: the URL and why (never "fetch failed"). */
export const SendFailedError = createError('TYLT_SEND_FAILED', 'cannot reach %s: %s')

/** A command-line mistake: the CLI prints its message and the command's usage, and exits 2. */
export class UsageError extends Error {}
