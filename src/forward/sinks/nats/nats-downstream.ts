import type { Downstream } from '../downstream.js'
import { redactUrl, requiredParam } from '../target-url.js'

/** `nats://[user:pass@ | token@]host[:port]?subject=SUBJECT`, published to JetStream. */
export interface NatsTarget {
  readonly kind: 'nats'
  /** `host:port`; credentials are passed apart because the client does not read them from a URL. */
  readonly server: string
  readonly subject: string
  readonly user?: string
  readonly pass?: string
  readonly token?: string
  readonly redacted: string
}

// NATS publish subjects: dot-separated tokens, no wildcards and no whitespace (they would split the frame).
const NATS_SUBJECT = /^[^\s.*>]+(\.[^\s.*>]+)*$/

function parseNatsUrl(url: URL): NatsTarget {
  const subject = requiredParam(url, 'subject', 'nats://127.0.0.1:4222?subject=tylt.events')
  if (!NATS_SUBJECT.test(subject)) {
    throw new Error(
      `FORWARD_URL subject "${subject}" is not a valid NATS subject to publish to (no wildcards)`,
    )
  }
  const user = decodeURIComponent(url.username)
  const pass = decodeURIComponent(url.password)
  // nats://TOKEN@host is the NATS convention for token auth; user:pass@ for user/password auth.
  const credentials = pass !== '' ? { user, pass } : user !== '' ? { token: user } : {}
  const server = `${url.hostname}:${url.port === '' ? '4222' : url.port}`
  return { kind: 'nats', server, subject, ...credentials, redacted: redactUrl(url) }
}

export const natsDownstream: Downstream<NatsTarget> = {
  kind: 'nats',
  schemes: ['nats:'],
  parse: parseNatsUrl,
  create: async ({ kind: _kind, ...target }, { timeoutMs }) => {
    const { NatsSink } = await import('./nats-sink.js')
    return new NatsSink({ ...target, timeoutMs })
  },
}
