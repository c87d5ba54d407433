import type { FastifyInstance, FastifyRequest } from 'fastify'
import { eventJson, eventsJson } from './console-json.js'
import type { RouteKit } from './console-routes.js'
import { deadLetterIds, replayDeadLetters } from './dead-letter-replay.js'
import { parseEventFilters } from './event-filters.js'
import { eventPage } from './event-page.js'
import { eventsPage } from './events-page.js'
import { count } from './format.js'
import { messagePage, P } from './layout.js'
import { command, screen } from './screen.js'

const idOf = (request: FastifyRequest) => (request.params as { id: string }).id
const eventLink = (id: string) => `${P}/events/${encodeURIComponent(id)}`

/** The filters of a request: the query string, and a form's fields over it (the bulk replay posts them). */
const fieldsOf = (request: FastifyRequest): Record<string, unknown> => ({
  ...(request.query as Record<string, unknown>),
  ...(request.body as Record<string, unknown> | undefined),
})

const listLink = (form: Readonly<Record<string, string>>) =>
  `${P}/events?${new URLSearchParams(Object.entries(form).filter(([, v]) => v !== ''))}`

export function eventRoutes(app: FastifyInstance, kit: RouteKit): void {
  const { deps } = kit
  const now = deps.now ?? Date.now
  const { store } = deps
  screen(
    app,
    kit,
    '/events',
    async (request) => {
      const filters = parseEventFilters(fieldsOf(request), deps.services)
      const events = await store.list(filters.query)
      // The count the bulk replay asks to confirm, when the table lists dead letters.
      const dead =
        filters.query.state === 'dead' ? (await deadLetterIds(store, filters.query)).length : undefined
      return { data: { events, filters, dead } }
    },
    {
      page: (d, ctx) => eventsPage(d.events, d.filters, deps.services, ctx, d.dead),
      json: (d) => ({
        ...eventsJson(d.events, d.filters),
        ...(d.dead === undefined ? {} : { dead: d.dead }),
      }),
    },
  )
  const loadEvent = async (request: FastifyRequest) => {
    const id = idOf(request)
    const event = await store.get(id)
    if (event === undefined) return { missing: `No event with id ${id}.` }
    return { data: { event, attempts: await store.attempts(id) } }
  }
  screen(app, kit, '/events/:id', loadEvent, {
    page: (d, ctx) => eventPage(d.event, d.attempts, ctx),
    json: (d) => eventJson(d.event, d.attempts),
  })
  app.post(
    `${P}/events/:id/reveal`,
    kit.action(async (request, ctx) => {
      const loaded = await loadEvent(request)
      if ('missing' in loaded) return { page: messagePage('Not found', ctx, loaded.missing), status: 404 }
      // The audit line names the event, never what was shown.
      request.log.info(
        { eventId: loaded.data.event.id, source: request.ip },
        'console: personal data revealed',
      )
      return { page: await eventPage(loaded.data.event, loaded.data.attempts, ctx, true) }
    }),
  )
  command(app, kit, '/events/:id/replay', async (request) => {
    const id = idOf(request)
    const { missing } = await store.replay([id], now())
    if (missing.length > 0) return { missing: `No event with id ${id}.` }
    deps.wake?.()
    request.log.info({ eventId: id }, 'console: event queued for delivery again')
    return { flash: `Event ${id} is queued for delivery again.`, to: eventLink(id), result: { queued: 1 } }
  })
  command(app, kit, '/dead-letters/replay', async (request) => {
    const filters = parseEventFilters(fieldsOf(request), deps.services)
    // A filter that could not be read would widen the set: nothing is replayed rather than too much.
    if (filters.problems.length > 0)
      return { flash: `Nothing replayed: ${filters.problems.join('; ')}.`, to: P, result: { queued: 0 } }
    const filtered = Object.entries(filters.form).some(([name, v]) => v !== '' && name !== 'state')
    const queued = filtered
      ? await replayDeadLetters(store, filters.query, now())
      : await store.replayState('dead', now())
    if (queued > 0) deps.wake?.()
    request.log.info({ queued, filtered }, 'console: dead letters queued for delivery again')
    const flash =
      queued === 0
        ? 'There were no dead letters.'
        : `${count(queued, 'dead letter')} queued for delivery again.`
    return { flash, to: filtered ? listLink(filters.form) : P, result: { queued } }
  })
}
