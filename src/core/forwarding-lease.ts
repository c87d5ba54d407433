/**
 * The right to forward. Replicas that share one store must not deliver side by side (acceptance order, and
 * one copy of each event): at most one process holds the lease at a time, and a replica whose holder died
 * takes it over. A store that only one process opens needs none: `ALWAYS_HELD`.
 */
export interface ForwardingLease {
  /** True while this process may forward. */
  readonly held: boolean
  /**
   * How long (ms) the session that holds the lease elsewhere has run no statement: a live holder runs one
   * every second, so a growing figure is a holder that is frozen or gone while nothing forwards. 0 while
   * this process holds the lease, while nobody does, or when the holder cannot be seen.
   */
  readonly holderSilentMs: number
  /**
   * `listener` is called when events may be waiting for this process: another replica accepted some, an
   * operator queued some again, or this process just gained the lease.
   */
  onWake(listener: () => void): void
  close(): Promise<void>
}

/** The lease of a store that a single process owns (SQLite in DATA_DIR): always held, never woken. */
export const ALWAYS_HELD: ForwardingLease = {
  held: true,
  holderSilentMs: 0,
  onWake: () => {},
  close: async () => {},
}
