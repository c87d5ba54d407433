/** What an operator needs of a failure: a short code to group by and the message, never a stack. */
export interface FailureDescription {
  readonly code: string
  readonly message: string
}

/**
 * The code of the first error in the chain that has one: a sink's delivery code (sinks/delivery-error.ts,
 * one vocabulary for every downstream), a system or library code (`ECONNREFUSED`, `SQLITE_BUSY`); else
 * `HTTP_503` read from an answer's message, `TIMEOUT` for a deadline, and `ERROR` for the rest.
 */
export function describeFailure(err: unknown): FailureDescription {
  const error = err instanceof Error ? err : new Error(String(err))
  const message = error.message
  const status = /\bHTTP (\d{3})\b/.exec(message)
  if (status !== null) return { code: `HTTP_${status[1]}`, message }
  for (let cause: unknown = error, depth = 0; cause instanceof Error && depth < 5; depth++) {
    const code = (cause as NodeJS.ErrnoException).code
    if (typeof code === 'string' && code !== '') return { code, message }
    if (cause.name === 'TimeoutError') return { code: 'TIMEOUT', message }
    cause = cause.cause
  }
  if (/did not answer within|timed out|timeout/i.test(message)) return { code: 'TIMEOUT', message }
  return { code: 'ERROR', message }
}
