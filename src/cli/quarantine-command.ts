import { loadConfig } from '../config/load-config.js'
import type { EventStore } from '../core/event-store.js'
import type { QuarantineStore, QuarantineSummary } from '../core/quarantine-store.js'
import { UsageError } from '../errors.js'
import {
  candidatesFor,
  type RetryOutcome,
  type RetrySecrets,
  retryQuarantined,
} from '../quarantine/retry-quarantined.js'
import { bodyLines, bodyView } from './body-text.js'
import { type Command, stringOption } from './command.js'
import { openEventStore, openQuarantine, using } from './open-stores.js'
import { refusalText, slotText } from './refusal-text.js'
import { terminalText } from './terminal-text.js'

export interface QuarantineArgs {
  readonly action: string | undefined
  readonly ids: readonly string[]
  readonly all: boolean
  readonly json: boolean
  readonly limit: string | undefined
  /** `retry --service NAME`: verify against this service instead of the one the path named. */
  readonly service?: string | undefined
  /** `show --body`: print the body, which may hold personal data; masked unless `unmasked`. */
  readonly body?: boolean
  readonly unmasked?: boolean
}

/** Lines to print and the exit code: 1 when something asked for was not done. */
export interface CommandResult {
  readonly lines: string[]
  readonly code: number
}

const iso = (ms: number) => new Date(ms).toISOString()
const NOT_FOUND = 'not in quarantine (already retried or dropped); nothing done'

function listLine(r: QuarantineSummary): string {
  return [
    r.id,
    iso(r.receivedAt),
    r.reason.padEnd(15),
    r.path,
    `from ${r.sourceAddress}`,
    `${r.bytes} bytes`,
  ].join('  ')
}

async function list(quarantine: QuarantineStore, args: QuarantineArgs): Promise<CommandResult> {
  const limit = args.limit === undefined ? 50 : Number(args.limit)
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive whole number')
  const requests = await quarantine.list(limit)
  if (args.json) return { lines: [JSON.stringify(requests, null, 2)], code: 0 }
  return { lines: requests.length === 0 ? ['nothing is quarantined'] : requests.map(listLine), code: 0 }
}

async function show(quarantine: QuarantineStore, args: QuarantineArgs): Promise<CommandResult> {
  const id = args.ids[0]
  if (id === undefined) throw new UsageError('quarantine show needs an id')
  const request = await quarantine.get(id)
  if (request === undefined) return { lines: [`${id}: ${NOT_FOUND}`], code: 1 }
  const { body, ...rest } = request
  const unmasked = args.unmasked === true
  if (args.json) {
    const view = { ...rest, bytes: body.length, ...(args.body ? await bodyView(body, unmasked) : {}) }
    return { lines: [JSON.stringify(view, null, 2)], code: 0 }
  }
  const fields = Object.entries({ ...rest, bytes: body.length }).map(
    ([key, value]) => `${key}: ${key === 'receivedAt' ? iso(value as number) : String(value)}`,
  )
  return { lines: [...fields, ...(await bodyLines(body, args.body === true, unmasked))], code: 0 }
}

function targets(args: QuarantineArgs, action: string): readonly string[] | 'all' {
  if (args.all && args.ids.length > 0)
    throw new UsageError(`quarantine ${action} takes ids or --all, not both`)
  if (args.all) return 'all'
  if (args.ids.length === 0) throw new UsageError(`quarantine ${action} needs ids or --all`)
  return args.ids
}

export function retryLine(o: RetryOutcome, secrets: RetrySecrets, service?: string): string {
  switch (o.outcome) {
    case 'accepted':
      return `${o.id}: accepted as ${o.event.id} (service ${o.event.service}, ${slotText(o.slot)}, ${o.fallback ? 'JSON fallback' : 'raw bytes'})`
    case 'duplicate':
      return `${o.id}: already accepted as ${o.event.id} (service ${o.event.service}); removed from quarantine`
    case 'refused': {
      const names =
        o.reason === 'unknown_service'
          ? [o.request.service ?? '']
          : candidatesFor(o.request, secrets.services, service).map((s) => s.name)
      return `${o.id}: still refused: ${refusalText(o.reason, names)}; kept`
    }
    case 'missing':
      return `${o.id}: ${NOT_FOUND}`
  }
}

async function retry(
  quarantine: QuarantineStore,
  events: () => Promise<EventStore>,
  secrets: RetrySecrets,
  args: QuarantineArgs,
): Promise<CommandResult> {
  const ids = targets(args, 'retry')
  if (args.service !== undefined && !secrets.services.some((s) => s.name === args.service)) {
    throw new UsageError(
      `unknown service "${args.service}"; configured: ${secrets.services.map((s) => s.name).join(', ')}`,
    )
  }
  if (ids === 'all' && (await quarantine.stats()).count === 0)
    return { lines: ['nothing is quarantined'], code: 0 }
  const outcomes = await using(await events(), (store) =>
    retryQuarantined(quarantine, store, secrets, ids, Date.now(), args.service),
  )
  const count = (outcome: RetryOutcome['outcome']) => outcomes.filter((o) => o.outcome === outcome).length
  const summary = `accepted ${count('accepted')}, already accepted ${count('duplicate')}, still refused ${count('refused')}, not found ${count('missing')}`
  return {
    lines: [...outcomes.map((o) => retryLine(o, secrets, args.service)), summary],
    code: count('refused') + count('missing') === 0 ? 0 : 1,
  }
}

async function drop(quarantine: QuarantineStore, args: QuarantineArgs): Promise<CommandResult> {
  const ids = targets(args, 'drop')
  if (ids === 'all') return { lines: [`dropped ${await quarantine.remove('all')} request(s)`], code: 0 }
  const lines: string[] = []
  let dropped = 0
  for (const id of ids) {
    if ((await quarantine.remove([id])) === 1) dropped++
    else lines.push(`${id}: ${NOT_FOUND}`)
  }
  return { lines: [...lines, `dropped ${dropped} request(s)`], code: dropped === ids.length ? 0 : 1 }
}

/** `quarantine list|show|retry|drop`: reads and updates the quarantine directly, safe while the relay runs. */
export async function quarantineCommand(
  quarantine: QuarantineStore,
  events: () => Promise<EventStore>,
  secrets: RetrySecrets,
  args: QuarantineArgs,
): Promise<CommandResult> {
  if (args.action === 'list') return list(quarantine, args)
  if (args.action === 'show') return show(quarantine, args)
  if (args.action === 'retry') return retry(quarantine, events, secrets, args)
  if (args.action === 'drop') return drop(quarantine, args)
  throw new UsageError('quarantine needs list, show, retry or drop')
}

export const quarantineCommandRow: Command = {
  name: 'quarantine',
  summary: 'list, show, retry and drop refused requests kept in quarantine',
  usage: `tylt-relay quarantine list [--limit N] [--json]
tylt-relay quarantine show ID [--body [--unmasked]] [--json]
tylt-relay quarantine retry ID... | --all [--service NAME]
tylt-relay quarantine drop ID... | --all
  --body         show: also print the body, personal data masked as the console masks it
  --unmasked     show --body: print the body as received, personal data included`,
  options: {
    limit: { type: 'string' },
    json: { type: 'boolean', default: false },
    all: { type: 'boolean', default: false },
    service: { type: 'string' },
    body: { type: 'boolean', default: false },
    unmasked: { type: 'boolean', default: false },
  },
  async run(input) {
    // The secrets configured now, read from the environment and the secret files as the relay reads them.
    const config = loadConfig(input.env, { requireServices: false })
    const [action, ...ids] = input.positionals
    const args = {
      action,
      ids,
      all: input.values.all === true,
      json: input.values.json === true,
      limit: stringOption(input, 'limit'),
      service: stringOption(input, 'service'),
      body: input.values.body === true,
      unmasked: input.values.unmasked === true,
    }
    if (args.unmasked && !args.body) throw new UsageError('--unmasked goes with --body')
    const result = await using(await openQuarantine(config), (quarantine) =>
      quarantineCommand(quarantine, () => openEventStore(config), config, args),
    )
    input.stdout.write(`${terminalText(result.lines.join('\n'))}\n`)
    return result.code
  },
}
