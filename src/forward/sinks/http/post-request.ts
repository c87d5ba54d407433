import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'

/** One kept-alive connection pool per sink: it sends one request at a time. */
export const agentFor = (url: URL): HttpAgent =>
  url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true })

/**
 * POSTs `body` with exactly `headers` (Node adds only `host`, `content-length` and `connection`): unlike
 * fetch, nothing a browser would send (`sec-fetch-mode`, `accept-language`, a `user-agent` of its own).
 * Resolves with the answer once its head has arrived; its body is the caller's to read or drop.
 */
export function postRequest(
  url: URL,
  options: {
    readonly agent: HttpAgent
    readonly headers: Record<string, string>
    readonly body: Buffer
    readonly signal: AbortSignal
  },
): Promise<IncomingMessage> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      agent: options.agent,
      headers: { ...options.headers, 'content-length': String(options.body.length) },
      signal: options.signal,
    })
    req.once('response', resolve)
    req.once('error', reject)
    req.end(options.body)
  })
}
