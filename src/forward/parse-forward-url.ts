/** A validated FORWARD_URL. `redacted` is the URL without its password, safe for logs and errors. */
export type ForwardTarget =
  | { readonly kind: 'http'; readonly url: URL; readonly redacted: string }
  | {
      readonly kind: 'redis'
      /** The connection URL without the `stream` parameter, which ioredis would take for an option. */
      readonly url: string
      readonly stream: string
      readonly redacted: string
    }
  | {
      readonly kind: 'amqp'
      /** The connection URL without `exchange`/`routingKey`, keeping amqplib's own (frameMax, heartbeat...). */
      readonly url: string
      readonly exchange: string
      /** Fixed routing key; null means `tylt.<service>` per event. */
      readonly routingKey: string | null
      readonly redacted: string
    }
  | {
      readonly kind: 'nats'
      /** `host:port`; credentials are passed apart because the client does not read them from a URL. */
      readonly server: string
      readonly subject: string
      readonly user?: string
      readonly pass?: string
      readonly token?: string
      readonly redacted: string
    }

/** The URL with any password (and a NATS token, which sits where a user name would) replaced by `***`. */
export function redactUrl(url: string | URL): string {
  const copy = new URL(url)
  if (copy.password !== '') copy.password = '***'
  else if (copy.protocol === 'nats:' && copy.username !== '') copy.username = '***'
  return copy.href
}

/** Removes the parameters this module consumed, so each client sees only options it understands. */
function withoutParams(url: URL, names: readonly string[]): string {
  const copy = new URL(url)
  for (const name of names) copy.searchParams.delete(name)
  return copy.href
}

function requiredParam(url: URL, name: string, example: string): string {
  const value = url.searchParams.get(name)
  if (value === null || value.trim() === '') {
    throw new Error(
      `FORWARD_URL ${url.protocol}// needs ?${name}=... (for example ${example}): ${redactUrl(url)}`,
    )
  }
  return value.trim()
}

// NATS publish subjects: dot-separated tokens, no wildcards and no whitespace (they would split the frame).
const NATS_SUBJECT = /^[^\s.*>]+(\.[^\s.*>]+)*$/

function parseNats(url: URL): ForwardTarget {
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

/** Parses and validates FORWARD_URL; throws an Error (never echoing a password) when it cannot be used. */
export function parseForwardUrl(raw: string): ForwardTarget {
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    // The raw text may hold a password, so it is not repeated here.
    throw new Error('FORWARD_URL is not a valid URL')
  }
  switch (url.protocol) {
    case 'http:':
    case 'https:':
      return { kind: 'http', url, redacted: redactUrl(url) }
    case 'redis:':
    case 'rediss:': {
      const stream = requiredParam(url, 'stream', 'redis://127.0.0.1:6379?stream=tylt-events')
      return { kind: 'redis', url: withoutParams(url, ['stream']), stream, redacted: redactUrl(url) }
    }
    case 'amqp:':
    case 'amqps:': {
      const exchange = requiredParam(url, 'exchange', 'amqp://127.0.0.1:5672?exchange=tylt')
      const routingKey = url.searchParams.get('routingKey')
      return {
        kind: 'amqp',
        url: withoutParams(url, ['exchange', 'routingKey']),
        exchange,
        routingKey: routingKey === null || routingKey === '' ? null : routingKey,
        redacted: redactUrl(url),
      }
    }
    case 'nats:':
      return parseNats(url)
    default:
      throw new Error(
        `FORWARD_URL scheme "${url.protocol.slice(0, -1)}" is not supported ` +
          '(use http, https, redis, rediss, amqp, amqps or nats)',
      )
  }
}
