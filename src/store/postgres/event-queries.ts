import { EVENT_STATES, type EventState } from '../../core/event.js'
import { type ListQuery, likePrefix } from '../../core/event-store.js'
import { EVENT_COLUMNS } from './schema.js'

export function checkedState(state: EventState): EventState {
  if (!EVENT_STATES.includes(state)) throw new Error(`unknown state ${String(state)}`)
  return state
}

/**
 * The oldest pending events ($1 at most), cut before the event whose body would pass the byte budget ($2)
 * but never empty; `$3` narrows to services. The running total reads each body's stored length, not the
 * body: only the bodies of the batch are fetched.
 */
export const pendingQuery = (byService: boolean): string => `WITH line AS (
    SELECT seq, row_number() OVER w AS n, sum(octet_length(body)) OVER w AS bytes FROM tylt_events
    WHERE state = 'pending' ${byService ? 'AND service = ANY($3::text[])' : ''}
    WINDOW w AS (ORDER BY seq) ORDER BY seq LIMIT $1)
  SELECT ${EVENT_COLUMNS} FROM tylt_events WHERE seq IN (SELECT seq FROM line WHERE n = 1 OR bytes <= $2)
  ORDER BY seq`

/** Each filter of `events list` and the console, given its parameter's placeholder. */
export const LIST_FILTERS: readonly [keyof ListQuery, (n: string) => string][] = [
  ['state', (n) => `state = ${n}`],
  ['service', (n) => `service = ${n}`],
  ['product', (n) => `product = ${n}`],
  // Without regard to case: lower() on both sides, so that a value always matches itself. The status's
  // parameter lists it and the `product:id` pairs its label names; the order's is a prefix (likePrefix).
  [
    'status',
    (n) => `(lower(status) IN (SELECT lower(s) FROM unnest(${n}::text[]) s)
      OR lower(product || ':' || status) IN (SELECT lower(s) FROM unnest(${n}::text[]) s))`,
  ],
  [
    'order',
    (n) =>
      `(lower(order_id) LIKE lower(${n}) ESCAPE '\\' OR lower(merchant_order_id) LIKE lower(${n}) ESCAPE '\\')`,
  ],
  ['recovered', (n) => `recovered = ${n}`],
  ['since', (n) => `accepted_at >= ${n}`],
  ['until', (n) => `accepted_at < ${n}`],
  ['beforeSeq', (n) => `seq < ${n}`],
]

/** Each filter's parameter: the status with the pairs its label names, the order as a prefix pattern. */
export function listParameter(query: ListQuery, key: keyof ListQuery): unknown {
  if (key === 'status') return [query.status, ...(query.statusIds ?? [])]
  if (key === 'order') return likePrefix(query.order ?? '')
  return query[key]
}
