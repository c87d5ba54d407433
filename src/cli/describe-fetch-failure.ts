/**
 * Why a request got no answer, in words a user can act on, instead of fetch's "fetch failed" (the reason
 * is in its `cause`, an errno error from the socket or the resolver).
 */
export function describeFetchFailure(err: unknown, url: URL, timeoutMs: number): string {
  const error = err as Error & { cause?: NodeJS.ErrnoException & { hostname?: string } }
  if (error.name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`
  const cause = error.cause
  const where = `${url.hostname}:${url.port || (url.protocol === 'https:' ? 443 : 80)}`
  switch (cause?.code) {
    case 'ECONNREFUSED':
      return `nothing listens on ${where}`
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the name ${url.hostname} does not resolve (DNS: ${cause.code})`
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return `${where} closed the connection before answering`
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${where} is unreachable (${cause.code})`
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `connecting to ${where} timed out`
    default:
      return cause?.message ?? error.message
  }
}
