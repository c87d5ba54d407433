import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Answer, ConsoleDeps, Handler, QuarantineRetryOutcome } from './console-deps.js'
import { parseEventFilters } from './event-filters.js'
import { eventPage } from './event-page.js'
import { eventsPage } from './events-page.js'
import { count } from './format.js'
import { messagePage, P, type PageContext } from './layout.js'
import { overviewPage } from './overview-page.js'
import { QUARANTINE_SHOWN, quarantinePage } from './quarantine-page.js'
import type { SlotWatch } from './slot-watch.js'

type Route = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>

export interface RouteKit {
  readonly deps: ConsoleDeps
  readonly slots: SlotWatch | undefined
  /** A page behind the login. */
  readonly view: (handler: Handler) => Route
  /** A state-changing POST behind the login and the CSRF check. */
  readonly action: (handler: Handler) => Route
}

const idOf = (request: FastifyRequest) => (request.params as { id: string }).id
const eventLink = (id: string) => `${P}/events/${encodeURIComponent(id)}`

const RETRIED: Record<QuarantineRetryOutcome, string> = {
  accepted: 'verified with the current secrets and accepted; it is queued for delivery',
  duplicate: 'verified, but the relay already had this event',
  refused: 'still does not verify; it stays quarantined',
  missing: 'is no longer in the quarantine',
}

function notFound(ctx: PageContext, what: string): Answer {
  return { page: messagePage('Not found', ctx, what), status: 404 }
}

function eventRoutes(app: FastifyInstance, { deps, view, action }: RouteKit) {
  const now = deps.now ?? Date.now
  const { store } = deps
  const show = async (request: FastifyRequest, ctx: PageContext, reveal: boolean): Promise<Answer> => {
    const id = idOf(request)
    const event = await store.get(id)
    if (event === undefined) return notFound(ctx, `No event with id ${id}.`)
    // The audit line names the event, never what was shown.
    if (reveal) request.log.info({ eventId: id, source: request.ip }, 'console: personal data revealed')
    return { page: await eventPage(event, await store.attempts(id), ctx, reveal) }
  }
  app.get(
    `${P}/events`,
    view(async (request, ctx) => {
      const filters = parseEventFilters(request.query as Record<string, unknown>, deps.services)
      return { page: eventsPage(await store.list(filters.query), filters, deps.services, ctx) }
    }),
  )
  app.get(
    `${P}/events/:id`,
    view(async (request, ctx) => show(request, ctx, false)),
  )
  app.post(
    `${P}/events/:id/reveal`,
    action(async (request, ctx) => show(request, ctx, true)),
  )
  app.post(
    `${P}/events/:id/replay`,
    action(async (request, ctx) => {
      const id = idOf(request)
      const { missing } = await store.replay([id], now())
      if (missing.length > 0) return notFound(ctx, `No event with id ${id}.`)
      deps.wake?.()
      request.log.info({ eventId: id }, 'console: event queued for delivery again')
      return { flash: `Event ${id} is queued for delivery again.`, to: eventLink(id) }
    }),
  )
  app.post(
    `${P}/dead-letters/replay`,
    action(async (request) => {
      const queued = await store.replayState('dead', now())
      if (queued > 0) deps.wake?.()
      request.log.info({ queued }, 'console: dead letters queued for delivery again')
      const flash =
        queued === 0
          ? 'There were no dead letters.'
          : `${count(queued, 'dead letter')} queued for delivery again.`
      return { flash, to: P }
    }),
  )
}

function quarantineRoutes(app: FastifyInstance, { deps, view, action }: RouteKit) {
  const quarantine = deps.quarantine
  if (quarantine === undefined) return
  const back = `${P}/quarantine`
  app.get(
    back,
    view(async (_request, ctx) => {
      const [requests, stats] = await Promise.all([quarantine.list(QUARANTINE_SHOWN), quarantine.stats()])
      return { page: quarantinePage(requests, stats, deps.retryQuarantined !== undefined, ctx) }
    }),
  )
  const retry = deps.retryQuarantined
  if (retry !== undefined) {
    app.post(
      `${back}/:id/retry`,
      action(async (request) => {
        const id = idOf(request)
        const outcome = await retry(id)
        request.log.info({ quarantineId: id, outcome }, 'console: quarantined request retried')
        return { flash: `Request ${id} ${RETRIED[outcome]}.`, to: back }
      }),
    )
  }
  app.post(
    `${back}/:id/drop`,
    action(async (request) => {
      const id = idOf(request)
      const removed = await quarantine.remove([id])
      request.log.info({ quarantineId: id, removed }, 'console: quarantined request dropped')
      return { flash: removed === 0 ? `Request ${id} was already gone.` : `Request ${id} dropped.`, to: back }
    }),
  )
  app.post(
    `${back}/drop-all`,
    action(async (request) => {
      const removed = await quarantine.remove('all')
      request.log.info({ removed }, 'console: quarantine emptied')
      return { flash: `${count(removed, 'quarantined request')} dropped.`, to: back }
    }),
  )
}

export function consoleRoutes(app: FastifyInstance, kit: RouteKit): void {
  const { deps, slots, view } = kit
  const now = deps.now ?? Date.now
  // What this relay accepted since it started survives the pruning of delivered events; the store's newest
  // event covers the time before the start, events another replica accepted, and quarantined requests
  // accepted on retry (as of when they arrived).
  const lastAcceptedAt = async (service: string): Promise<number | null> => {
    const kept = (await deps.store.list({ limit: 1, service }))[0]?.acceptedAt ?? null
    const seen = deps.lastAccepted?.get(service)
    if (seen === undefined) return kept
    return kept === null ? seen : Math.max(kept, seen)
  }
  app.get(
    P,
    view(async (_request, ctx) => {
      const [stats, quarantine, slotUse, lastAccepted] = await Promise.all([
        deps.store.stats(),
        deps.quarantine?.stats(),
        slots?.sample() ?? [],
        Promise.all(deps.services.map(async (service) => ({ service, at: await lastAcceptedAt(service) }))),
      ])
      const downstreams = deps.downstreams?.()
      const overview = { now: now(), stats, downstreams, quarantine, lastAccepted, slots: slotUse }
      return { page: overviewPage(overview, ctx) }
    }),
  )
  eventRoutes(app, kit)
  quarantineRoutes(app, kit)
}
