import type { Downstream } from '../downstream.js'
import { redactUrl } from '../target-url.js'

/** `http(s)://...`: the URL is kept whole, query included; credentials become Basic auth. */
export interface HttpTarget {
  readonly kind: 'http'
  readonly url: URL
  readonly redacted: string
}

export const httpDownstream: Downstream<HttpTarget> = {
  kind: 'http',
  schemes: ['http:', 'https:'],
  parse: (url) => ({ kind: 'http', url, redacted: redactUrl(url) }),
  create: async (target, { signingSecret, timeoutMs }) => {
    const { HttpSink } = await import('./http-sink.js')
    return new HttpSink(target.url, { signingSecret, timeoutMs })
  },
}
