import { loadConfig } from '../config/load-config.js'
import { urlName } from '../config/service-secrets.js'
import type { EventStore, ReplayScope } from '../core/event-store.js'
import { EventNotFoundError, UsageError } from '../errors.js'
import { hasDownstreamIn, type PlannedDownstream, planDownstreams } from '../forward/downstream-plan.js'
import { openExistingStore } from '../store/open-store.js'
import { type Command, type CommandInput, stringOption } from './command.js'
import { type ListArgs, listLines, listQuery, parseSince } from './events-list.js'
import { showLines } from './events-show.js'
import { runTail } from './events-tail-command.js'
import { terminalText } from './terminal-text.js'
import { isoTime } from './text-table.js'

export interface EventsArgs extends ListArgs {
  readonly action: string | undefined
  readonly ids: readonly string[]
  readonly dead: boolean
  readonly stored?: boolean
  readonly body?: boolean
  readonly unmasked?: boolean
}

/** Which state a selector replay takes: dead letters with --dead, else stored events. */
function replayedState(args: EventsArgs): 'dead' | 'stored' | undefined {
  const selectors = args.service !== undefined || args.since !== undefined
  if (args.ids.length > 0) {
    if (args.dead || args.stored === true || selectors)
      throw new UsageError(
        'events replay takes event ids or selectors (--dead, --stored, --service, --since), not both',
      )
    return undefined
  }
  if (args.dead && args.stored === true)
    throw new UsageError('events replay takes --dead or --stored, not both')
  if (args.dead) return 'dead'
  if (args.stored === true || selectors) return 'stored'
  throw new UsageError('events replay needs event ids, --dead, --stored or --service NAME')
}

/**
 * The services a replay of stored events may queue: only those with a downstream now, or the events would be
 * pending with nothing to send them, and go to whichever downstream is configured next.
 */
function replayableServices(service: string | undefined, plan: readonly PlannedDownstream[]) {
  if (service !== undefined) {
    if (!hasDownstreamIn(plan)(service)) {
      throw new UsageError(
        `service "${service}" has no downstream: set FORWARD_URL (or its own FORWARD_URL_<NAME>) first; nothing was queued`,
      )
    }
    return [service]
  }
  if (plan.length === 0) throw new UsageError('no downstream is configured (FORWARD_URL); nothing was queued')
  return plan.some((d) => d.reads === undefined) ? undefined : plan.flatMap((d) => d.reads ?? [])
}

function describeScope(service: string | undefined, since: number | undefined): string {
  const parts = [
    ...(service === undefined ? [] : [`of service ${service}`]),
    ...(since === undefined ? [] : [`accepted since ${isoTime(since)}`]),
  ]
  return parts.length === 0 ? '' : ` ${parts.join(', ')}`
}

async function replayLines(
  store: EventStore,
  args: EventsArgs,
  plan: readonly PlannedDownstream[],
): Promise<string[]> {
  const now = Date.now()
  const state = replayedState(args)
  if (state === undefined) {
    const { queued, missing } = await store.replay(args.ids, now)
    if (missing.length > 0) throw new EventNotFoundError(`${missing.join(', ')} (nothing was queued)`)
    return [`queued ${queued} event(s) for delivery`]
  }
  const service = args.service === undefined ? undefined : urlName(args.service)
  const since = parseSince(args.since, now)
  const scope: ReplayScope = {
    services:
      state === 'stored' ? replayableServices(service, plan) : service === undefined ? undefined : [service],
    since,
  }
  const queued = await store.replayState(state, now, scope)
  const what = state === 'dead' ? 'dead letter(s)' : 'stored event(s)'
  return [`queued ${queued} ${what}${describeScope(service, since)} for delivery`]
}

const ACTIONS = ['list', 'show', 'replay', 'tail']

function checkAction(action: string | undefined): void {
  if (action === undefined) throw new UsageError('events needs list, show, replay or tail')
  if (!ACTIONS.includes(action))
    throw new UsageError(`unknown events action "${action}"; use list, show, replay or tail`)
}

/**
 * `events list|show|replay`: reads and updates the store directly, safe while the relay runs. `plan` is where
 * the configuration sends each service's events (what `events list` shows for those not yet delivered).
 */
export async function eventsCommand(
  store: EventStore,
  args: EventsArgs,
  plan: readonly PlannedDownstream[],
): Promise<string[]> {
  checkAction(args.action)
  if (args.action === 'list') return listLines(store, args, plan)
  if (args.action === 'show')
    return showLines(store, {
      id: args.ids[0],
      json: args.json,
      body: args.body === true,
      unmasked: args.unmasked === true,
    })
  return replayLines(store, args, plan)
}

const argsOf = (input: CommandInput): EventsArgs => {
  const [action, ...ids] = input.positionals
  const text = (name: string) => stringOption(input, name)
  return {
    action,
    ids,
    state: text('state'),
    service: text('service'),
    status: text('status'),
    order: text('order'),
    since: text('since'),
    product: text('product'),
    recovered: text('recovered'),
    limit: text('limit'),
    json: input.values.json === true,
    dead: input.values.dead === true,
    stored: input.values.stored === true,
    body: input.values.body === true,
    unmasked: input.values.unmasked === true,
  }
}

export const eventsCommandRow: Command = {
  name: 'events',
  summary: 'list, show, replay and follow (tail) stored events',
  usage: `tylt-relay events list [--state S] [--service NAME] [--status S] [--order ID] [--product P]
                       [--since TIME|DURATION] [--recovered HOW] [--limit N] [--json]
tylt-relay events show ID [--body [--unmasked]] [--json]
tylt-relay events replay ID... | --dead | --stored [--service NAME] [--since TIME|DURATION]
tylt-relay events tail [--json] [--service NAME] [--status S] [--order ID] [--product P] [--since T]
                       [--interval DURATION]
  --state S      pending, delivered, dead or stored (accepted while its service had no downstream)
  --status S     as the body says it, any case; a label (completed) also finds numeric states (UPI 4)
  --order ID     the start of Tylt's order id or of the merchant's order id, any case
  --product P    cpg-pay-in, cpg-payout, upi, pix, eu-open-banking, inr-payout or unknown
  --recovered H  only events recovered from quarantine or by reconcile (quarantine, reconcile)
  --since T      accepted at or after an ISO time (2026-12-01T08:00:00Z) or within a duration (2h)
  --limit N      at most N events, newest first (50 by default)
  --body         also print the body, personal data masked as the console masks it
  --unmasked     with --body: print the body as received, personal data included
  --dead         replay the dead letters (of --service, --since)
  --stored       replay the stored events (of --service, --since); the default with --service or --since
  --interval D   how often tail polls the store (500ms by default); it runs until interrupted`,
  options: {
    state: { type: 'string' },
    service: { type: 'string' },
    status: { type: 'string' },
    order: { type: 'string' },
    since: { type: 'string' },
    product: { type: 'string' },
    recovered: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean', default: false },
    dead: { type: 'boolean', default: false },
    stored: { type: 'boolean', default: false },
    body: { type: 'boolean', default: false },
    interval: { type: 'string' },
    unmasked: { type: 'boolean', default: false },
  },
  async run(input) {
    const args = argsOf(input)
    // Usage mistakes are told before the store is opened.
    checkAction(args.action)
    if (args.action === 'tail') return runTail(input, args)
    if (args.action === 'list') listQuery(args, Date.now())
    if (args.unmasked === true && args.body !== true) throw new UsageError('--unmasked goes with --body')
    if (args.action === 'replay') {
      replayedState(args)
      parseSince(args.since, Date.now())
    }
    const config = loadConfig(input.env, { requireServices: false })
    // Its errors tell a missing store from a corrupted one or a folder this user may not write.
    const store = await openExistingStore(config)
    try {
      const lines = await eventsCommand(store, args, planDownstreams(config))
      input.stdout.write(`${terminalText(lines.join('\n'))}\n`)
    } finally {
      await store.close()
    }
    return 0
  },
}
