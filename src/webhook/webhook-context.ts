import type { Outcome, RefusalReason } from '../core/observers.js'
import type { ServiceKeys } from '../verify/verify-signature.js'

export type { RefusalReason }

/** What one webhook request learned, for its log line and metrics. */
export interface WebhookContext {
  service: string
  /** `/webhooks/:service`: the service's keys, found before the body was read. */
  keys: ServiceKeys | undefined
  outcome: Outcome | undefined
  eventId: string | undefined
  status: string | null
  merchantOrderId: string | null
  /** The request's Content-Type, taken off the headers so that no media type can make Fastify refuse it. */
  contentType: string | null
  /** Set when the request was refused for its signature or its service. */
  reason: RefusalReason | undefined
  /** The refusal came from a penalised source (admission): no JSON fallback, not handed to the quarantine. */
  overLimit: boolean
}

export const newWebhookContext = (): WebhookContext => ({
  service: 'unknown',
  keys: undefined,
  outcome: undefined,
  eventId: undefined,
  status: null,
  merchantOrderId: null,
  contentType: null,
  reason: undefined,
  overLimit: false,
})

declare module 'fastify' {
  interface FastifyRequest {
    webhook: WebhookContext
  }
}
