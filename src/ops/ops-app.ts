import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { TEXT_PLAIN } from '../constants.js'
import { describeFailure } from '../core/describe-failure.js'
import type { EventStore } from '../core/event-store.js'
import { notFoundHandler } from '../http/error-handler.js'
import { NO_SCHEMA_COMPILERS } from '../http/schema-compilers.js'

/** What readiness asks of a forwarder (src/forward/forwarder.ts). */
export interface ReadinessSource {
  notReadyReason(): string | undefined
}

/** Plain text like every answer here; a server error says nothing of its internals (the log has them). */
function opsErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const status = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500
  if (status >= 500) request.log.error({ err: error, reqId: request.id }, 'ops request failed')
  return reply
    .code(status)
    .type(TEXT_PLAIN)
    .send(status >= 500 ? 'internal error' : error.message)
}

/**
 * The operations listener: liveness, readiness and metrics, on a port of its own so that the webhook port
 * serves nothing but webhooks. Readiness depends on the store, and on each forwarder being able to use it
 * (docs/operations.md, "Readiness and a forwarder that cannot move"), never on a downstream: events are
 * accepted durably while the downstream is down, so a broker outage must not pull the relay out of its load
 * balancer. With `console` (OPS_TOKEN or OPS_TOKEN_FILE set) it also serves the operator's console under
 * /console; without it, /console is 404.
 */
export function buildOpsApp(deps: {
  logger: Logger
  store: EventStore
  /** What `/metrics` serves (metrics.ts). */
  metrics: { readonly registry: Registry }
  /** The operator's console (console-deps.ts's consoleMount), mounted when given. */
  console?: FastifyPluginAsync | undefined
  forwarders?: readonly ReadinessSource[]
}): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    schemaController: NO_SCHEMA_COMPILERS,
  })
  app.setNotFoundHandler(notFoundHandler)
  app.setErrorHandler(opsErrorHandler)
  app.get('/healthz', async (_request, reply) => reply.type(TEXT_PLAIN).send('ok'))
  // A probe comes every few seconds: the log says when readiness changes, not at every probe.
  let told: string | undefined
  const tell = (request: FastifyRequest, said: string, fields: object) => {
    if (told !== said) request.log.warn(fields, said)
    told = said
  }
  app.get('/readyz', async (request, reply) => {
    try {
      await deps.store.probe()
    } catch (err) {
      // An operating condition, not a bug: code and message, no stack.
      tell(request, 'not ready: the store does not accept writes', describeFailure(err))
      return reply.code(503).type(TEXT_PLAIN).send('store unavailable')
    }
    for (const forwarder of deps.forwarders ?? []) {
      const reason = forwarder.notReadyReason()
      if (reason === undefined) continue
      tell(request, 'not ready: a forwarder cannot make progress', { reason })
      return reply.code(503).type(TEXT_PLAIN).send('forwarder stalled')
    }
    if (told !== undefined) request.log.info('ready again')
    told = undefined
    return reply.type(TEXT_PLAIN).send('ready')
  })
  app.get('/metrics', async (_request, reply) => {
    const body = await deps.metrics.registry.metrics()
    return reply.type(deps.metrics.registry.contentType).send(body)
  })
  if (deps.console !== undefined) app.register(deps.console)
  return app
}
