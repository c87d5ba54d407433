import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify'
import type { Logger } from 'pino'
import type { ConsoleDeps } from '../console/console-deps.js'
import { consolePlugin } from '../console/console-plugin.js'
import type { EventStore } from '../core/event-store.js'
import { notFoundHandler } from '../http/error-handler.js'
import type { Metrics } from './metrics.js'

/**
 * The operations listener: liveness, readiness and metrics, on a port of its own so that the webhook port
 * serves nothing but webhooks. Readiness depends on the store only: events are accepted durably while the
 * downstream is down, so a broker outage must not pull the relay out of its load balancer. With `console`
 * (OPS_TOKEN set) it also serves the operator's console under /console; without it, /console is 404.
 */
export function buildOpsApp(deps: {
  logger: Logger
  store: EventStore
  metrics: Metrics
  console?: ConsoleDeps | undefined
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
      return reply.type('text/plain; charset=utf-8').send('ready')
    } catch (err) {
      request.log.warn({ err }, 'not ready: the store does not accept writes')
      return reply.code(503).type('text/plain; charset=utf-8').send('store unavailable')
    }
  })
  app.get('/metrics', async (_request, reply) => {
    const body = await deps.metrics.registry.metrics()
    return reply.type(deps.metrics.registry.contentType).send(body)
  })
  const console = deps.console
  if (console !== undefined) app.register(async (scope) => consolePlugin(scope, console))
  return app
}
