import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify'
import type { Logger } from 'pino'
import type { EventStore } from '../core/event-store.js'
import { describeFailure } from '../forward/describe-failure.js'
import { notFoundHandler } from '../http/error-handler.js'
import type { Metrics } from './metrics.js'

/** What readiness asks of a forwarder (src/forward/forwarder.ts). */
export interface ReadinessSource {
  notReadyReason(): string | undefined
}

/**
 * The operations listener: liveness, readiness and metrics, on a port of its own so that the webhook port
 * serves nothing but webhooks. Readiness depends on the store, and on each forwarder being able to use it
 * (docs/operations.md, "Readiness"), never on a downstream: events are accepted durably while the
 * downstream is down, so a broker outage must not pull the relay out of its load balancer.
 */
export function buildOpsApp(deps: {
  logger: Logger
  store: EventStore
  metrics: Metrics
  forwarders?: readonly ReadinessSource[]
}): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  })
  app.setNotFoundHandler(notFoundHandler)
  app.get('/healthz', async (_request, reply) => reply.type('text/plain; charset=utf-8').send('ok'))
  app.get('/readyz', async (request, reply) => {
    try {
      await deps.store.probe()
    } catch (err) {
      // An operating condition, not a bug: code and message, no stack.
      request.log.warn({ ...describeFailure(err) }, 'not ready: the store does not accept writes')
      return reply.code(503).type('text/plain; charset=utf-8').send('store unavailable')
    }
    for (const forwarder of deps.forwarders ?? []) {
      const reason = forwarder.notReadyReason()
      if (reason === undefined) continue
      request.log.warn({ reason }, 'not ready: a forwarder cannot make progress')
      return reply.code(503).type('text/plain; charset=utf-8').send('forwarder stalled')
    }
    return reply.type('text/plain; charset=utf-8').send('ready')
  })
  app.get('/metrics', async (_request, reply) => {
    const body = await deps.metrics.registry.metrics()
    return reply.type(deps.metrics.registry.contentType).send(body)
  })
  return app
}
