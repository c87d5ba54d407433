/**
 * Every tuning knob of admission (docs/hardening.md, "Admission"). A source's refusals (401, 404, 413 on a
 * webhook path) are charged to its budget by the bytes read for them; one that empties its budget is
 * penalised for `penaltyMs`. Genuine Tylt traffic is never refused, so it never spends any of it; a rotation
 * mistake refusing every callback of a service (a few KB each) stays within it for hundreds of callbacks at
 * once and then hundreds a second.
 */
export const ADMISSION = {
  /** Bytes of refused requests one source address may send at once, refilled at `refillBytesPerSecond`. */
  budgetBytes: 8 * 1024 * 1024,
  refillBytesPerSecond: 1024 * 1024,
  /** How long a source stays penalised after a refusal found its budget empty. */
  penaltyMs: 60_000,
  /** How long after its last verified callback a source counts as a verified source. */
  verifiedMs: 24 * 60 * 60 * 1000,
  /** Source addresses remembered at most (budgets, penalties, verified sources): the stalest go first. */
  sources: 10_000,
  /** No callback is larger: a penalised source declaring a larger body is refused before it is read. */
  maxCallbackBytes: 65_536,
  /** Mean event-loop delay past which every webhook request gets 503 (the process is out of CPU). */
  maxEventLoopDelayMs: 200,
  /** Event-loop utilisation (0-1) past which penalised sources get 503 before anyone else is delayed. */
  maxEventLoopUtilization: 0.8,
} as const

export type AdmissionLimits = { readonly [K in keyof typeof ADMISSION]: number }
