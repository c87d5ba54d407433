import { ATTEMPTS_KEPT, type Attempt, type StoredEvent } from '../core/event.js'
import type { EventStore } from '../core/event-store.js'
import { EventNotFoundError, UsageError } from '../errors.js'
import { bodyLines, bodyView } from './body-text.js'
import { withoutBody } from './events-list.js'
import { isoTime, textTable } from './text-table.js'

export interface ShowArgs {
  readonly id: string | undefined
  readonly json: boolean
  /** The body holds personal data (`userDetails`): printed only when asked for, masked unless `unmasked`. */
  readonly body: boolean
  readonly unmasked?: boolean
}

const TIMES = new Set(['acceptedAt', 'lastAttemptAt', 'deliveredAt', 'retrySince'])

/** The kept failed attempts, then the delivery that ended them (the store records it on the event). */
function attemptLines(event: StoredEvent, failed: readonly Attempt[]): string[] {
  const rows = failed.map((a) => [isoTime(a.at), a.downstream, a.outcome, a.error])
  if (event.deliveredAt !== null)
    rows.push([isoTime(event.deliveredAt), event.deliveredTo ?? '-', 'delivered', '-'])
  if (rows.length === 0) return ['attempts: none yet']
  const dropped =
    failed.length >= ATTEMPTS_KEPT ? ` (older failures dropped: the newest ${ATTEMPTS_KEPT} are kept)` : ''
  return [
    `attempts${dropped}:`,
    ...textTable(['TIME', 'DOWNSTREAM', 'OUTCOME', 'ERROR'], rows).map((line) => `  ${line}`),
  ]
}

/** `events show ID`: every field, the failed attempts, and the body only with `--body` (masked unless `--unmasked`). */
export async function showLines(store: EventStore, args: ShowArgs): Promise<string[]> {
  if (args.id === undefined) throw new UsageError('events show needs an event id')
  const event = await store.get(args.id)
  if (event === undefined) throw new EventNotFoundError(args.id)
  const attempts = await store.attempts(args.id)
  const fields = withoutBody(event)
  const unmasked = args.unmasked === true
  if (args.json) {
    const body = args.body ? await bodyView(event.body, unmasked) : {}
    return [JSON.stringify({ ...fields, attemptHistory: attempts, ...body }, null, 2)]
  }
  return [
    ...Object.entries(fields).map(
      ([key, value]) => `${key}: ${TIMES.has(key) ? isoTime(value as number | null) : String(value)}`,
    ),
    ...attemptLines(event, attempts),
    ...(await bodyLines(event.body, args.body, unmasked)),
  ]
}
