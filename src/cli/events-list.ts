import { parseDuration } from '../config/duration.js'
import { EVENT_STATES, type EventState, PRODUCTS, RECOVERIES, type StoredEvent } from '../core/event.js'
import type { EventStore, ListQuery } from '../core/event-store.js'
import { UsageError } from '../errors.js'
import { statusIdsOf } from '../event/finality-table.js'
import { downstreamOf, type PlannedDownstream } from '../forward/downstream-plan.js'
import { isoTime, textTable } from './text-table.js'

export interface ListArgs {
  readonly state?: string | undefined
  readonly service?: string | undefined
  readonly status?: string | undefined
  readonly order?: string | undefined
  readonly since?: string | undefined
  readonly product?: string | undefined
  readonly recovered?: string | undefined
  readonly limit?: string | undefined
  readonly json: boolean
}

const DEFAULT_LIMIT = 50

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[]) {
  if (value === undefined) return undefined
  const found = allowed.find((a) => a === value)
  if (found === undefined) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}`)
  return found
}

/** `--since`: an ISO time, or a duration back from now (`2h`, `30m`, `7d`). */
export function parseSince(text: string | undefined, now: number): number | undefined {
  if (text === undefined) return undefined
  const ago = parseDuration(text)
  if (ago !== undefined) return now - ago
  const at = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN
  if (Number.isNaN(at))
    throw new UsageError(
      `--since must be an ISO time (2026-12-01T08:00:00Z) or a duration (2h), not "${text}"`,
    )
  return at
}

export function listQuery(args: ListArgs, now: number): ListQuery {
  const limit = args.limit === undefined ? DEFAULT_LIMIT : Number(args.limit)
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive whole number')
  return {
    limit,
    state: oneOf<EventState>('state', args.state, EVENT_STATES),
    product: oneOf('product', args.product, PRODUCTS),
    service: args.service,
    status: args.status,
    statusIds: args.status === undefined ? undefined : statusIdsOf(args.status),
    order: args.order,
    recovered: oneOf('recovered', args.recovered, RECOVERIES),
    since: parseSince(args.since, now),
  }
}

/** The listing without bodies: a body holds personal data and `events show --body` prints it. */
export const withoutBody = ({ body: _body, ...rest }: StoredEvent) => rest

/**
 * Where an event goes: the downstream that confirmed it, else the one the configuration sends its service
 * to now (where a pending event waits, and where a dead letter goes when replayed); null when none reads it.
 */
const downstream = (e: StoredEvent, plan: readonly PlannedDownstream[]) =>
  e.deliveredTo ?? downstreamOf(plan, e.service)

const HEADER = [
  'ACCEPTED',
  'ID',
  'SERVICE',
  'STATE',
  'PRODUCT',
  'STATUS',
  'FINAL',
  'MERCHANT ORDER',
  'ATTEMPTS',
  'DOWNSTREAM',
]
const row = (e: StoredEvent, plan: readonly PlannedDownstream[]) => [
  isoTime(e.acceptedAt),
  e.id,
  e.service,
  e.state,
  e.product,
  e.status ?? '-',
  e.final,
  e.merchantOrderId ?? '-',
  String(e.attempts),
  downstream(e, plan) ?? '-',
]

/** `events list`: newest first, a header row, or JSON; `plan` is where the configuration sends each service. */
export async function listLines(
  store: EventStore,
  args: ListArgs,
  plan: readonly PlannedDownstream[],
  now = Date.now(),
): Promise<string[]> {
  const events = await store.list(listQuery(args, now))
  if (args.json)
    return [
      JSON.stringify(
        events.map((e) => ({ ...withoutBody(e), downstream: downstream(e, plan) })),
        null,
        2,
      ),
    ]
  if (events.length === 0) return ['no events']
  return textTable(
    HEADER,
    events.map((e) => row(e, plan)),
  )
}
