import type { Outcome } from '../ops/metrics.js'
import type { ServiceKeys } from '../verify/verify-signature.js'

/** What one webhook request learned, for its log line and metrics. */
export interface WebhookContext {
  service: string
  /** `/webhooks/:service`: the service's keys, found before the body was read. */
  keys: ServiceKeys | undefined
  outcome: Outcome | undefined
  eventId: string | undefined
  status: string | null
  merchantOrderId: string | null
}

export const newWebhookContext = (): WebhookContext => ({
  service: 'unknown',
  keys: undefined,
  outcome: undefined,
  eventId: undefined,
  status: null,
  merchantOrderId: null,
})

declare module 'fastify' {
  interface FastifyRequest {
    webhook: WebhookContext
  }
}
