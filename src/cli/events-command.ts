import { loadConfig } from '../config/load-config.js'
import { EVENT_STATES, type EventState, type StoredEvent } from '../core/event.js'
import type { EventStore } from '../core/event-store.js'
import { EventNotFoundError, UsageError } from '../errors.js'
import { openExistingStore } from '../store/open-store.js'
import { type Command, stringOption } from './command.js'

export interface EventsArgs {
  readonly action: string | undefined
  readonly ids: readonly string[]
  readonly state: string | undefined
  readonly json: boolean
  readonly dead: boolean
  readonly limit: string | undefined
}

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString())

function parseState(state: string | undefined): EventState | undefined {
  if (state === undefined) return undefined
  const found = EVENT_STATES.find((s) => s === state)
  if (found === undefined) throw new UsageError(`--state must be one of ${EVENT_STATES.join(', ')}`)
  return found
}

function summary(e: StoredEvent) {
  const { body: _body, ...rest } = e
  return rest
}

/** The body as text when it is valid UTF-8 (Tylt sends JSON), otherwise base64 so that no byte is lost. */
function bodyText(body: Uint8Array): { encoding: 'utf8' | 'base64'; body: string } {
  const buffer = Buffer.from(body)
  const text = buffer.toString('utf8')
  return Buffer.from(text, 'utf8').equals(buffer)
    ? { encoding: 'utf8', body: text }
    : { encoding: 'base64', body: buffer.toString('base64') }
}

async function listLines(store: EventStore, args: EventsArgs): Promise<string[]> {
  const limit = args.limit === undefined ? 50 : Number(args.limit)
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive whole number')
  const events = await store.list({ state: parseState(args.state), limit })
  if (args.json) return [JSON.stringify(events.map(summary), null, 2)]
  if (events.length === 0) return ['no events']
  return events.map((e) =>
    [
      e.id,
      e.state.padEnd(9),
      e.service,
      iso(e.acceptedAt),
      e.status ?? '-',
      e.merchantOrderId ?? '-',
      `attempts=${e.attempts}`,
    ].join('  '),
  )
}

async function showLines(store: EventStore, args: EventsArgs): Promise<string[]> {
  const id = args.ids[0]
  if (id === undefined) throw new UsageError('events show needs an event id')
  const event = await store.get(id)
  if (event === undefined) throw new EventNotFoundError(id)
  const view = { ...summary(event), ...bodyText(event.body) }
  if (args.json) return [JSON.stringify(view, null, 2)]
  const times = new Set(['acceptedAt', 'lastAttemptAt', 'deliveredAt', 'retrySince'])
  return [
    ...Object.entries(summary(event)).map(
      ([key, value]) => `${key}: ${times.has(key) ? iso(value as number | null) : String(value)}`,
    ),
    `body (${view.encoding}):`,
    view.body,
  ]
}

async function replayLines(store: EventStore, args: EventsArgs): Promise<string[]> {
  if (args.dead) return [`queued ${await store.replayState('dead', Date.now())} dead letter(s) for delivery`]
  if (args.ids.length === 0) throw new UsageError('events replay needs event ids or --dead')
  const { queued, missing } = await store.replay(args.ids, Date.now())
  if (missing.length > 0) throw new EventNotFoundError(`${missing.join(', ')} (nothing was queued)`)
  return [`queued ${queued} event(s) for delivery`]
}

/** `events list|show|replay`: reads and updates the store directly, safe while the relay runs. */
export async function eventsCommand(store: EventStore, args: EventsArgs): Promise<string[]> {
  if (args.action === 'list') return listLines(store, args)
  if (args.action === 'show') return showLines(store, args)
  if (args.action === 'replay') return replayLines(store, args)
  throw new UsageError('events needs list, show or replay')
}

export const eventsCommandRow: Command = {
  name: 'events',
  summary: 'list, show and replay stored events',
  usage: `tylt-relay events list [--state pending|delivered|dead] [--limit N] [--json]
tylt-relay events show ID [--json]
tylt-relay events replay ID... | --dead`,
  options: {
    state: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean', default: false },
    dead: { type: 'boolean', default: false },
  },
  async run(input) {
    const config = loadConfig(input.env, { requireServices: false })
    // Its errors tell a missing store from a corrupted one or a folder this user may not write.
    const store = await openExistingStore(config)
    try {
      const [action, ...ids] = input.positionals
      const args = {
        action,
        ids,
        state: stringOption(input, 'state'),
        json: input.values.json === true,
        dead: input.values.dead === true,
        limit: stringOption(input, 'limit'),
      }
      input.stdout.write(`${(await eventsCommand(store, args)).join('\n')}\n`)
    } finally {
      await store.close()
    }
    return 0
  },
}
