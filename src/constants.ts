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
 * When the webhook listener refuses work (see src/http/overload-guard.ts). A healthy relay's event loop lags
 * by well under 10 ms even at full speed (the disk waits are on libuv's pool); a mean lag of 200 ms over
 * half a second means every request already waits that long per turn and the backlog grows, so answering
 * 503 at once beats answering late. Sampled twice a second so a refusal spell ends soon after the load.
 */
export const OVERLOAD = {
  maxEventLoopDelayMs: 200,
  sampleIntervalMs: 500,
  /**
   * Sources recently past their failure limit (a flood of forgeries) are shed first, as soon as the event loop is busy 80% of
   * a sample, which genuine traffic alone reaches only near the relay's capacity; and for 10 s after the
   * last one shed, since letting them back in is what made the loop busy. docs/hardening.md.
   */
  suspectMaxUtilization: 0.8,
  suspectHoldMs: 10_000,
  /**
   * A shed suspect's 503 waits a second: a flood's connections then cost one request a second each instead
   * of as many as they can send. At most 64 wait at once (each holds up to about 128 KB of unread body in
   * buffers); past that they are answered at once.
   */
  suspectDelayMs: 1_000,
  maxHeld: 64,
  /**
   * While suspects are shed, up to 256 of their new connections are held open unread, for half a second
   * each, then closed: a file descriptor and what the kernel buffers of the unread bytes each (its receive
   * buffer at most, 128 KiB by default on Linux: 32 MiB for all 256 in the worst case). Past that they are
   * closed as soon as accepted.
   */
  maxHeldConnections: 256,
  connectionHoldMs: 500,
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

/**
 * The work refused requests (401, 404) from one source address may cost in full, as a token bucket counted
 * in bytes of HMAC input: a failure costs its body size (at least `minCost`) times the secrets tried, the
 * JSON fallback counting `fallbackWeight` more (parsing and re-serialising costs more than hashing), so a
 * 256 KB forgery against 40 keys spends what a thousand small ones would. `burst` at once, refilled at
 * `perSecond`; the bucket may go into debt by one request, never more. Past it, a request from that address
 * is still checked against the raw bytes (a genuine callback from a shared address is accepted), but gets
 * no JSON fallback and is not handed to the quarantine. Genuine Tylt traffic never fails; a rotation
 * mistake (every callback refused) is charged like a forgery: with the fallback on, a refused callback of
 * up to 1 KiB against a one-key service costs 18 KiB, so one Tylt address stays under the limit for about
 * 455 at once and then about 57 a second (docs/hardening.md, section 7). The `global` bucket bounds the
 * same work across all addresses, so rotating addresses buys nothing; at most `addresses` are tracked
 * (the stalest forgotten first), so the limiter's memory stays bounded whatever the attacker rotates
 * through.
 */
export const FAILURE_LIMIT = {
  burst: 8 * 1024 * 1024,
  perSecond: 1024 * 1024,
  globalBurst: 64 * 1024 * 1024,
  globalPerSecond: 8 * 1024 * 1024,
  addresses: 10_000,
  /** A source past its own limit this recently is a suspect: the overload guard sheds it first. */
  suspectMs: 60_000,
} as const

/**
 * Webhook requests from sources not known to be Tylt (none of their requests verified yet, or one refused
 * since the last that did) are let in one per turn of the event loop, round robin across sources; trust
 * lasts `trustMs` after the last request that verified, for at most `addresses` sources.
 * src/http/source-turns.ts, docs/hardening.md.
 */
export const SOURCE_TURNS = {
  trustMs: 24 * 60 * 60 * 1000,
  addresses: 10_000,
} as const

/** What one refused request costs at least, and how much more the JSON fallback weighs than one HMAC. */
export const FAILURE_COST = { minCost: 1024, fallbackWeight: 16 } as const

/**
 * A suspect's request declaring a larger body (or none) is shed at once, whether or not the relay is busy:
 * no callback is that large, and reading and hashing it is what a flood of big forgeries costs.
 */
export const SUSPECT_MAX_BODY = 65_536

/** Requests with a body over SUSPECT_MAX_BODY one source address may have in flight; more get 503 at once. */
export const MAX_LARGE_IN_FLIGHT = 4
