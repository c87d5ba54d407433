import type { Outcome } from '../ops/metrics.js'

/** What one webhook request learned, for its log line and metrics. */
export interface WebhookContext {
  service: string
  outcome: Outcome | undefined
  eventId: string | undefined
  status: string | null
  merchantOrderId: string | null
}

export const newWebhookContext = (): WebhookContext => ({
  service: 'unknown',
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
