/** What an operator needs of a failure: a short code to group by and the message, never a stack. */
export interface FailureDescription {
  readonly code: string
  readonly message: string
}

/**
 * `HTTP_503` for an answer, the system or library code of the first cause that has one (`ECONNREFUSED`,
 * `SQLITE_BUSY`, `SQLITE_FULL`), `TIMEOUT` for a deadline, else `ERROR`.
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
