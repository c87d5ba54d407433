import { loadConfig } from '../config/load-config.js'
import type { EventStore } from '../core/event-store.js'
import { EventNotFoundError, UsageError } from '../errors.js'
import { type PlannedDownstream, planDownstreams } from '../forward/downstream-plan.js'
import { openExistingStore } from '../store/open-store.js'
import { type Command, type CommandInput, stringOption } from './command.js'
import { type ListArgs, listLines, listQuery } from './events-list.js'
import { showLines } from './events-show.js'

export interface EventsArgs extends ListArgs {
  readonly action: string | undefined
  readonly ids: readonly string[]
  readonly dead: boolean
  readonly body?: boolean
}

async function replayLines(store: EventStore, args: EventsArgs): Promise<string[]> {
  if (args.dead) return [`queued ${await store.replayState('dead', Date.now())} dead letter(s) for delivery`]
  if (args.ids.length === 0) throw new UsageError('events replay needs event ids or --dead')
  const { queued, missing } = await store.replay(args.ids, Date.now())
  if (missing.length > 0) throw new EventNotFoundError(`${missing.join(', ')} (nothing was queued)`)
  return [`queued ${queued} event(s) for delivery`]
}

const ACTIONS = ['list', 'show', 'replay']

function checkAction(action: string | undefined): void {
  if (action === undefined) throw new UsageError('events needs list, show or replay')
  if (!ACTIONS.includes(action))
    throw new UsageError(`unknown events action "${action}"; use list, show or replay`)
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
    return showLines(store, { id: args.ids[0], json: args.json, body: args.body === true })
  return replayLines(store, args)
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
    body: input.values.body === true,
  }
}

export const eventsCommandRow: Command = {
  name: 'events',
  summary: 'list, show and replay stored events',
  usage: `tylt-relay events list [--state S] [--service NAME] [--status S] [--order ID] [--product P]
                       [--since TIME|DURATION] [--recovered HOW] [--limit N] [--json]
tylt-relay events show ID [--body] [--json]
tylt-relay events replay ID... | --dead
  --state S      pending, delivered or dead
  --order ID     Tylt's order id or the merchant's order id
  --product P    cpg-pay-in, cpg-payout, upi, pix, eu-open-banking, inr-payout or unknown
  --recovered H  only events recovered from quarantine or by reconcile (quarantine, reconcile)
  --since T      accepted at or after an ISO time (2026-12-01T08:00:00Z) or within a duration (2h)
  --limit N      at most N events, newest first (50 by default)
  --body         also print the body, which may hold personal data
  --dead         replay every dead letter`,
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
    body: { type: 'boolean', default: false },
  },
  async run(input) {
    const args = argsOf(input)
    // Usage mistakes are told before the store is opened.
    checkAction(args.action)
    if (args.action === 'list') listQuery(args, Date.now())
    const config = loadConfig(input.env, { requireServices: false })
    // Its errors tell a missing store from a corrupted one or a folder this user may not write.
    const store = await openExistingStore(config)
    try {
      input.stdout.write(`${(await eventsCommand(store, args, planDownstreams(config))).join('\n')}\n`)
    } finally {
      await store.close()
    }
    return 0
  },
}
