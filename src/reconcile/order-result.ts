/** What a check did with one order (docs/reconcile.md, "Output"). */
export type Action =
  | 'emitted'
  | 'unchanged'
  | 'not-found'
  | 'unsupported'
  | 'error'
  | 'auth'
  | 'skipped'
  | 'dry-run'
  | 'abandoned'
  | 'anomaly'

export interface OrderResult {
  readonly service: string
  readonly product: string
  readonly orderKey: string
  readonly previous: string | null
  readonly current: string | null
  readonly action: Action
  /** Tylt's HTTP status; null when no request was made or no answer came. */
  readonly httpStatus: number | null
  /** `GET <path>` of the last query; never the query string, which holds ids. */
  readonly endpoint: string | null
  readonly detail?: string
  readonly eventId?: string
}

/** A service whose API key Tylt refused: named once, its remaining orders left for the next run. */
export interface StoppedService {
  readonly service: string
  readonly reason: string
}

export interface RunReport {
  readonly results: readonly OrderResult[]
  readonly stopped: readonly StoppedService[]
  /** Orders that were due (or named) this run. */
  readonly due: number
}

const NOT_CHECKED: ReadonlySet<Action> = new Set(['error', 'auth', 'skipped'])

/** Orders that could not be checked: they make a command run exit 1. */
export const notChecked = (report: RunReport): OrderResult[] =>
  report.results.filter((r) => NOT_CHECKED.has(r.action))

/** Backoff between checks of an order that stays open: 15 min, 30 min, 1 h, 2 h, 4 h, then every 6 h. */
const BACKOFF_MS = [15, 30, 60, 120, 240, 360].map((minutes) => minutes * 60_000)

export const backoffMs = (checks: number): number =>
  BACKOFF_MS[Math.min(Math.max(checks - 1, 0), BACKOFF_MS.length - 1)]!

/** An order not asked about, and why. */
export const skipped = (
  order: {
    readonly service: string
    readonly product: string
    readonly orderKey: string
    readonly status: string | null
  },
  detail: string,
): OrderResult => ({
  service: order.service,
  product: order.product,
  orderKey: order.orderKey,
  previous: order.status,
  current: null,
  action: 'skipped',
  httpStatus: null,
  endpoint: null,
  detail,
})
