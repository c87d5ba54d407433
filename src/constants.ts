/** Names, defaults and limits in one place (CONTRACT.md sections 2, 3 and 4). */

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

/** Answers whose bodies the contract fixes. */
export const ANSWER = {
  ok: 'ok',
  invalidSignature: 'invalid signature',
  notFound: 'not found',
  tooLarge: 'payload too large',
  unavailable: 'store unavailable, retry later',
  overloaded: 'overloaded, retry later',
} as const

export const STORE_FILE = 'tylt-relay.sqlite'
/** Held by the running relay for as long as it lives, so that a second one on the same DATA_DIR is refused. */
export const LOCK_FILE = 'tylt-relay.lock'

/**
 * Events that may wait for a commit at once; past it, webhooks get 503. A healthy store commits whatever
 * arrived during the previous fsync within milliseconds; 10,000 waiting events mean the disk has stalled.
 */
export const STORE_MAX_WAITING = 10_000

/**
 * When the webhook listener refuses work (see src/http/overload-guard.ts). A healthy relay's event loop lags
 * by well under 10 ms even at full speed (the disk waits are on libuv's pool); a mean lag of 200 ms over
 * half a second means every request already waits that long per turn and the backlog grows, so answering
 * 503 at once beats answering late. Sampled twice a second so a refusal spell ends soon after the load.
 */
export const OVERLOAD = {
  maxEventLoopDelayMs: 200,
  sampleIntervalMs: 500,
} as const

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

/** Body bytes the forwarder reads and holds in one batch, so memory follows bytes, not the event count. */
export const FORWARD_BATCH_MAX_BYTES = 16 * 1024 * 1024

/** Response header that tells a new event from a re-send; the body stays `ok`. */
export const OUTCOME_HEADER = 'tylt-relay-outcome'

/** The shortest OPS_TOKEN accepted: the console's login has no lockout, so the token must not be guessable. */
export const OPS_TOKEN_MIN_LENGTH = 16

/** The operator's console on the ops listener (docs/console.md). */
export const CONSOLE = {
  /** Where it is mounted. */
  prefix: '/console',
  cookie: 'tylt_console',
  /** A session ends after this long without a request, and this long after login whatever happens. */
  sessionIdleMs: 30 * 60_000,
  sessionMaxMs: 12 * 3_600_000,
  /** Sessions kept at once; past it, the oldest goes. */
  maxSessions: 100,
  /** Events per page of the events table. */
  pageSize: 50,
  /** Bytes of a form post (a token, a CSRF token, a few filters). */
  formLimit: 16_384,
  /** How often the secret-slot counters are sampled to tell when each slot last matched. */
  slotSampleMs: 30_000,
} as const

/** The quarantine's own database in DATA_DIR, apart from the events so that neither waits for the other. */
export const QUARANTINE_FILE = 'quarantine.sqlite'

/**
 * How the quarantine keeps refused requests (src/quarantine). Writes are batched every `flushMs` or once
 * `flushBytes` wait; what waits is bounded by `queueMaxBytes`. Each source address may have `perAddress`
 * requests kept in a burst, refilled at `perAddressPerSecond`; `addresses` bounds how many are tracked, and
 * `bytesPerSecond` (burst `burstBytes`) bounds what all of them together may write, so that a flood from
 * many addresses cannot turn into a flood of disk writes either. A rotation mistake refuses every callback
 * of a service, from Tylt's few addresses: the per-address rate is set well above a merchant's callback rate.
 */
export const QUARANTINE = {
  flushMs: 100,
  flushBytes: 1024 * 1024,
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
