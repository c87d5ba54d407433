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

/** What the downstream answered to an attempt, as one cell: `200 <start of the body>`, an entry id, or `-`. */
export function answerCell(a: Attempt): string {
  const said = [a.status === null ? '' : String(a.status), a.answer ?? ''].filter((p) => p !== '').join(' ')
  return said === '' ? '-' : said
}

/** The kept attempts, oldest first, successful ones included. */
function attemptLines(event: StoredEvent, attempts: readonly Attempt[]): string[] {
  if (attempts.length === 0) return ['attempts: none yet']
  const rows = attempts.map((a) => [
    isoTime(a.at),
    a.downstream,
    a.outcome,
    a.durationMs === null ? '-' : `${a.durationMs} ms`,
    answerCell(a),
    a.error ?? '-',
  ])
  const dropped =
    attempts.length >= ATTEMPTS_KEPT && event.attempts > attempts.length
      ? ` (older ones dropped: the newest ${ATTEMPTS_KEPT} are kept)`
      : ''
  return [
    `attempts${dropped}:`,
    ...textTable(['TIME', 'DOWNSTREAM', 'OUTCOME', 'DURATION', 'ANSWER', 'ERROR'], rows).map(
      (line) => `  ${line}`,
    ),
  ]
}

/** `events show ID`: every field, the kept attempts, and the body only with `--body` (masked unless `--unmasked`). */
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
