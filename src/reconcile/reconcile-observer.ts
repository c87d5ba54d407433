/** What reconcile reports as it runs; ops implements it with metrics. */
export interface ReconcileObserver {
  /** One request to Tylt: `ok`, `not-found`, `auth`, `rate-limited`, `error`. */
  onRequest(service: string, outcome: string): void
  onEmitted(service: string, product: string): void
  onAbandoned(count: number): void
  /** A round ended: how many orders were due, and when. */
  onRun(due: number, at: number): void
}

export const NO_OBSERVER: ReconcileObserver = {
  onRequest: () => {},
  onEmitted: () => {},
  onAbandoned: () => {},
  onRun: () => {},
}
