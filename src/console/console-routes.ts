import type { FastifyInstance } from 'fastify'
import type { ConsoleDeps } from './console-deps.js'
import { eventRoutes } from './event-routes.js'
import { P } from './layout.js'
import { ordersRoutes } from './orders-routes.js'
import { type Overview, overviewPage } from './overview-page.js'
import { quarantineRoutes } from './quarantine-routes.js'
import { type RouteKit as Guards, screen } from './screen.js'
import { searchTarget } from './search-target.js'
import type { SlotWatch } from './slot-watch.js'

export interface RouteKit extends Guards {
  readonly deps: ConsoleDeps
  readonly slots: SlotWatch | undefined
}

function overviewRoutes(app: FastifyInstance, kit: RouteKit) {
  const { deps, slots } = kit
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
  const load = async () => {
    const [stats, quarantine, slotUse, lastAccepted] = await Promise.all([
      deps.store.stats(),
      deps.quarantine?.stats(),
      slots?.sample() ?? [],
      Promise.all(deps.services.map(async (service) => ({ service, at: await lastAcceptedAt(service) }))),
    ])
    const downstreams = deps.downstreams?.()
    const data: Overview = { now: now(), stats, downstreams, quarantine, lastAccepted, slots: slotUse }
    return { data }
  }
  screen(app, kit, '', load, { page: overviewPage, json: (data) => data })
  // What the live pages poll: small, and changed by every acceptance and every end of a delivery.
  app.get(
    `${P}/api/pulse`,
    kit.json(async () => {
      const [stats, newest, quarantine] = await Promise.all([
        deps.store.stats(),
        deps.store.list({ limit: 1 }),
        deps.quarantine?.stats(),
      ])
      return { body: { ...stats, newestSeq: newest[0]?.seq ?? null, quarantined: quarantine?.count ?? null } }
    }),
  )
  app.get(
    `${P}/search`,
    kit.view(async (request) => {
      const q = (request.query as Record<string, unknown>).q
      return { to: await searchTarget(deps.store, typeof q === 'string' ? q : '') }
    }),
  )
}

export function consoleRoutes(app: FastifyInstance, kit: RouteKit): void {
  overviewRoutes(app, kit)
  eventRoutes(app, kit)
  ordersRoutes(app, kit)
  quarantineRoutes(app, kit)
}
