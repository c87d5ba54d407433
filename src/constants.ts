/**
 * The outside contract: header names, answers, defaults and limits (docs/reference.md sections 1 to 3). Each
 * subsystem keeps its own tuning beside it (forward/forward-tuning.ts, store/store-tuning.ts, ...).
 */

/** Tylt's signature header, lower-cased as Node presents it. */
export const SIGNATURE_HEADER = 'x-tlp-signature'

/** Environment variable prefix of a service secret: `TYLT_SECRET_<NAME>` and `TYLT_SECRET_<NAME>_FILE`. */
export const SECRET_PREFIX = 'TYLT_SECRET_'
export const SECRET_FILE_SUFFIX = '_FILE'

export const DEFAULTS = {
  HOST: '0.0.0.0',
  PORT: 3000,
  OPS_HOST: '0.0.0.0',
  OPS_PORT: 9090,
  DATA_DIR: './data',
  BODY_LIMIT: 262_144,
  DEDUP_WINDOW: '72h',
  RETRY_MAX_AGE: '72h',
  SHUTDOWN_GRACE: '30s',
  SIGNATURE_JSON_FALLBACK: true,
  LOG_LEVEL: 'info',
  QUARANTINE_MAX_BYTES: 64 * 1024 * 1024,
  QUARANTINE_MAX_AGE: '7d',
} as const

/** Seconds a client is told to wait when the store cannot take an event. */
export const RETRY_AFTER_SECONDS = 5

/** The media type of every answer that is not HTML or metrics. */
export const TEXT_PLAIN = 'text/plain; charset=utf-8'

/** The bodies of the answers listed in docs/reference.md, section 1. */
export const ANSWER = {
  ok: 'ok',
  invalidSignature: 'invalid signature',
  notFound: 'not found',
  tooLarge: 'payload too large',
  unavailable: 'store unavailable, retry later',
  overloaded: 'overloaded, retry later',
  badUrl: 'bad request: invalid percent-encoding in the path',
} as const

export const STORE_FILE = 'tylt-relay.sqlite'
/** Held by the running relay for as long as it lives, so that a second one on the same DATA_DIR is refused. */
export const LOCK_FILE = 'tylt-relay.lock'

/**
 * Socket limits of the webhook listener. Tylt sends small bodies from a data centre: a request whose headers
 * take more than 10 s, or whose body is not complete after 15 s, is a slow client holding a socket, not a
 * callback. Idle kept-alive sockets go after 5 s, so hundreds of idle connections cost little and not for long.
 * Tighter values would gain little (an idle socket costs a few KB) and risk cutting off a genuine callback
 * over a bad link, which Tylt would not retry. test/process/socket-abuse.test.ts runs a relay with exactly
 * these values; docs/hardening.md has the table of what each limit ends.
 */
export const SERVER_TIMEOUTS = {
  /** Whole request, headers and body (Node's `server.requestTimeout`). */
  requestTimeout: 15_000,
  /** Idle time allowed on a kept-alive connection between requests. */
  keepAliveTimeout: 5_000,
  /** Inactivity on a socket before it is destroyed. */
  connectionTimeout: 20_000,
} as const

export const HTTP_SERVER_OPTIONS = {
  /** Must be below requestTimeout; Node checks it every `connectionsCheckingInterval`. */
  headersTimeout: 10_000,
  connectionsCheckingInterval: 1_000,
  /** Bytes of request headers; Tylt sends a handful, and 100 KB of them is an attack. */
  maxHeaderSize: 16_384,
} as const

/** Response header that tells a new event from a re-send; the body stays `ok`. */
export const OUTCOME_HEADER = 'tylt-relay-outcome'

/** The shortest OPS_TOKEN accepted: the console's login has no lockout, so the token must not be guessable. */
export const OPS_TOKEN_MIN_LENGTH = 16

/** The quarantine's own database in DATA_DIR, apart from the events so that neither waits for the other. */
export const QUARANTINE_FILE = 'quarantine.sqlite'

/**
 * How the quarantine keeps refused requests (src/quarantine). Writes are batched every `flushMs` or once
 * `flushBytes` wait; what waits is bounded by `queueMaxBytes`. Each source address may have `perAddress`
 * requests kept in a burst, refilled at `perAddressPerSecond`; `addresses` bounds how many are tracked, and
 * `bytesPerSecond` (burst `burstBytes`) bounds what all of them together may write, so that a flood from
 * many addresses cannot turn into a flood of disk writes either. A rotation mistake refuses every callback
 * of a service, from Tylt's few addresses: the per-address rate is set well above a merchant's callback rate.
 * A write runs on the event loop (better-sqlite3 is synchronous), so a batch is kept small: 256 KiB is a
 * millisecond or so that a genuine callback may wait behind, where a 1 MiB batch of a flood's first wave was
 * several; and at most `flushCount` requests, since each costs a row and a log line whatever its size (200
 * small forgeries in one batch held the loop for 15-20 ms).
 */
export const QUARANTINE = {
  flushMs: 100,
  flushBytes: 256 * 1024,
  flushCount: 32,
  queueMaxBytes: 8 * 1024 * 1024,
  perAddress: 200,
  perAddressPerSecond: 100,
  addresses: 10_000,
  bytesPerSecond: 4 * 1024 * 1024,
  burstBytes: 16 * 1024 * 1024,
  /** Accounted per kept request besides its bytes (row, index), so that empty bodies are bounded too. */
  overheadBytes: 256,
  /** Age trimming, gauges and a summary of what was dropped, this often. */
  maintenanceMs: 10_000,
} as const

/**
 * After SHUTDOWN_GRACE, what is left of a stop: the sinks' close, the listeners' close and the store's,
 * each bounded so that the process is gone within SHUTDOWN_GRACE + 1 s whatever the downstream does.
 */
export const SHUTDOWN_TAIL_MS = 500

/**
 * The demo service of `.env.example`, whose secret is public. It stays usable on its own for the quick start;
 * beside any other service it would accept bodies anyone can sign, so the relay refuses to start.
 */
export const DEMO_SERVICE = 'demo'
export const DEMO_SECRET = 'demo-secret-change-me'

/** Shorter secrets are guessable offline from one captured callback; Tylt's dashboard keys are far longer. */
export const MIN_SECRET_BYTES = 16

/** Longest service name (the URL's path segment); the router refuses longer path parameters. */
export const MAX_SERVICE_NAME = 100

/**
 * Largest body the JSON fallback re-serialises. Tylt's callbacks are a few kilobytes; parsing and
 * re-serialising a large forged body is the most expensive thing a request can make the relay do, so past
 * this size only the raw bytes are checked (docs/hardening.md, "Verification cost").
 */
export const FALLBACK_MAX_BYTES = 65_536
