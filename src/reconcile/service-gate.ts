/** Consecutive failed requests (5xx, timeout) after which a service's circuit opens. */
export const CIRCUIT_FAILURES = 5
/** How long an open circuit keeps a service's orders waiting in `serve` (a command run simply ends). */
export const CIRCUIT_OPEN_MS = 5 * 60_000

/** The longest a run waits for Tylt's Retry-After; a longer pause leaves the service's orders to a later run. */
export const MAX_WAIT_MS = 120_000

export type Sleep = (ms: number) => Promise<void>

/**
 * The pace of one service's requests: at most RECONCILE_RATE a second per API key, nothing while Tylt's
 * Retry-After runs, nothing while the circuit is open. Waits are sleeps, never a loop that polls.
 */
export class ServiceGate {
  readonly #spacingMs: number
  #nextAt = 0
  #pausedUntil = 0
  #failures = 0
  #openUntil = 0

  constructor(rate: number) {
    this.#spacingMs = 1000 / rate
  }

  /**
   * Waits for the next request slot. The slot is taken before the wait, so callers sharing the gate (services
   * with one key) queue up; a pause Tylt asked for meanwhile sends the caller back to wait for its end.
   */
  async turn(now: () => number, sleep: Sleep): Promise<void> {
    for (;;) {
      const at = Math.max(this.#nextAt, this.#pausedUntil, now())
      this.#nextAt = at + this.#spacingMs
      // A timer counts from the event loop's cached time, so it may fire before the slot: sleep the rest.
      while (at > now()) await sleep(at - now())
      if (this.#pausedUntil <= now()) return
    }
  }

  /** Waits until a request could go, without taking the slot: what is read after it is read fresh. */
  async ready(now: () => number, sleep: Sleep): Promise<void> {
    const at = () => Math.max(this.#nextAt, this.#pausedUntil)
    while (at() > now()) await sleep(at() - now())
  }

  /** Tylt asked for a pause (429 with Retry-After). */
  pause(until: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, until)
  }

  pausedUntil(): number {
    return this.#pausedUntil
  }

  succeeded(): void {
    this.#failures = 0
  }

  /** A 5xx or no answer; returns true when this failure opened the circuit. */
  failed(now: number): boolean {
    this.#failures++
    if (this.#failures < CIRCUIT_FAILURES) return false
    this.#failures = 0
    this.#openUntil = now + CIRCUIT_OPEN_MS
    return true
  }

  isOpen(now: number): boolean {
    return now < this.#openUntil
  }
}
