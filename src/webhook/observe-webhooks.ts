import type { FastifyInstance } from 'fastify'
import { FLAT_LINE_REDACT } from '../logger.js'
import type { Metrics } from '../ops/metrics.js'
import { newWebhookContext } from './webhook-context.js'

/**
 * One log line and one set of metrics per webhook request, whatever its outcome. The line carries ids and
 * outcome only: never the signature, a secret or the body (it holds `userDetails`).
 */
export function observeWebhooks(app: FastifyInstance, metrics: Metrics) {
  // Every value of the line is a string, number or null (see FLAT_LINE_REDACT); reqId is what request.log adds.
  const log = app.log.child({}, { redact: FLAT_LINE_REDACT })
  app.addHook('onRequest', (request, _reply, done) => {
    request.webhook = newWebhookContext()
    done()
  })
  app.addHook('onResponse', (request, reply, done) => {
    const context = request.webhook
    const outcome = context.outcome ?? (reply.statusCode < 400 ? 'accepted' : 'error')
    const ms = reply.elapsedTime
    metrics.requests.labels(context.service, outcome).inc()
    metrics.ackDuration.labels(outcome).observe(ms / 1000)
    log.info(
      {
        reqId: request.id,
        service: context.service,
        outcome,
        eventId: context.eventId,
        status: context.status,
        merchantOrderId: context.merchantOrderId,
        statusCode: reply.statusCode,
        ms: Math.round(ms * 100) / 100,
        ip: request.ip,
      },
      'webhook',
    )
    done()
  })
}
