import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { QuarantineRetryOutcome } from './console-deps.js'
import { quarantineJson, quarantineSummary } from './console-json.js'
import type { RouteKit } from './console-routes.js'
import { count } from './format.js'
import { P } from './layout.js'
import { QUARANTINE_SHOWN, quarantinePage } from './quarantine-page.js'
import { quarantineRequestPage } from './quarantine-request-page.js'
import { command, screen } from './screen.js'

const idOf = (request: FastifyRequest) => (request.params as { id: string }).id

const RETRIED: Record<QuarantineRetryOutcome, string> = {
  accepted: 'verified with the current secrets and accepted; it is queued for delivery',
  duplicate: 'verified, but the relay already had this event',
  refused: 'still does not verify; it stays quarantined',
  missing: 'is no longer in the quarantine',
}

export function quarantineRoutes(app: FastifyInstance, kit: RouteKit): void {
  const { deps } = kit
  const quarantine = deps.quarantine
  if (quarantine === undefined) return
  const back = `${P}/quarantine`
  const canRetry = deps.retryQuarantined !== undefined
  screen(
    app,
    kit,
    '/quarantine',
    async () => {
      const [requests, stats] = await Promise.all([quarantine.list(QUARANTINE_SHOWN), quarantine.stats()])
      return { data: { requests, stats } }
    },
    {
      page: (d, ctx) => quarantinePage(d.requests, d.stats, canRetry, ctx),
      json: (d) => ({ requests: d.requests.map(quarantineSummary), stats: d.stats }),
    },
  )
  screen(
    app,
    kit,
    '/quarantine/:id',
    async (request) => {
      const id = idOf(request)
      const kept = await quarantine.get(id)
      if (kept === undefined) return { missing: `No quarantined request with id ${id}.` }
      return { data: { request: kept, verdict: deps.verifyQuarantined?.(kept) } }
    },
    {
      page: (d, ctx) => quarantineRequestPage(d.request, d.verdict, canRetry, ctx),
      json: (d) =>
        quarantineJson(
          d.request,
          d.verdict?.verifies === true ? { service: d.verdict.service, slot: d.verdict.slot } : null,
        ),
    },
  )
  const retry = deps.retryQuarantined
  if (retry !== undefined) {
    command(app, kit, '/quarantine/:id/retry', async (request) => {
      const id = idOf(request)
      const outcome = await retry(id)
      request.log.info({ quarantineId: id, outcome }, 'console: quarantined request retried')
      return { flash: `Request ${id} ${RETRIED[outcome]}.`, to: back, result: { outcome } }
    })
  }
  command(app, kit, '/quarantine/:id/drop', async (request) => {
    const id = idOf(request)
    const removed = await quarantine.remove([id])
    request.log.info({ quarantineId: id, removed }, 'console: quarantined request dropped')
    const flash = removed === 0 ? `Request ${id} was already gone.` : `Request ${id} dropped.`
    return { flash, to: back, result: { removed } }
  })
  command(app, kit, '/quarantine/drop-all', async (request) => {
    const removed = await quarantine.remove('all')
    request.log.info({ removed }, 'console: quarantine emptied')
    return { flash: `${count(removed, 'quarantined request')} dropped.`, to: back, result: { removed } }
  })
}
