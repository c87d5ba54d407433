/**
 * The one vocabulary of delivery failure codes, whatever the downstream (docs/downstreams.md, "Failure
 * codes"). Logged as `code`, stored with each attempt's error, shown by the console.
 */
export type DeliveryCode =
  /** Nothing accepts connections at the downstream's address; a system code, kept as the system says it. */
  | 'ECONNREFUSED'
  | 'ECONNRESET'
  | 'ETIMEDOUT'
  | 'ENOTFOUND'
  | 'EHOSTUNREACH'
  | 'EAI_AGAIN'
  /** Connected once, and the connection is gone: the client reconnects in the background. */
  | 'NOT_CONNECTED'
  /** No answer within the per-attempt timeout. */
  | 'TIMEOUT'
  /** The broker answered no: an error reply, a nack, a missing exchange or stream, a closed channel. */
  | 'REFUSED_BY_BROKER'
  /** RabbitMQ returned the message: no queue is bound for its routing key. */
  | 'UNROUTABLE'
  /** The event is over the downstream's size limit (a dead letter at once). */
  | 'TOO_LARGE'
  /** The relay is stopping; what was not confirmed is sent after the restart. */
  | 'STOPPED'
  /** An HTTP answer that is not 2xx. */
  | `HTTP_${number}`
  /** Nothing above fits (a bug, or a client library's new failure): the message says more. */
  | 'ERROR'

/** An Error with its delivery code. */
export function deliveryError(code: DeliveryCode, message: string, cause?: unknown): Error {
  const error = new Error(message, cause === undefined ? undefined : { cause }) as Error & { code: string }
  error.code = code
  return error
}

const SYSTEM_CODE = /^E[A-Z_]+$/

/** The delivery code an error already carries, if any. */
export const codeOf = (err: unknown): string | undefined => {
  const code = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined
  return typeof code === 'string' ? code : undefined
}

/** The first system error code (`ECONNREFUSED`, `ENOTFOUND`...) in an error's chain of causes. */
export function systemCode(err: unknown): DeliveryCode | undefined {
  for (let cause = err, depth = 0; cause instanceof Error && depth < 5; depth++) {
    const code = (cause as NodeJS.ErrnoException).code
    if (typeof code === 'string' && SYSTEM_CODE.test(code)) return code as DeliveryCode
    cause = cause.cause
  }
  return undefined
}
