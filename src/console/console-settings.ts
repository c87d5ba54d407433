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
  /** How often a live page (the overview, the newest events) asks whether anything changed. */
  liveMs: 1000,
  /** How often the secret-slot counters are sampled to tell when each slot last matched. */
  slotSampleMs: 30_000,
} as const
