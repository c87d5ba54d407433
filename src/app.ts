import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify'
import type { Logger } from 'pino'
import type { Config } from './config/load-config.js'
import type { SecretRegistry } from './config/secret-registry.js'
import { HTTP_SERVER_OPTIONS, SERVER_TIMEOUTS, SOURCE_TURNS } from './constants.js'
import type { EventStore } from './core/event-store.js'
import {
  type AdmissionObserver,
  NO_ADMISSION_OBSERVER,
  NO_WEBHOOK_OBSERVER,
  type WebhookObserver,
} from './core/observers.js'
import type { RefusalObserver } from './core/quarantine-store.js'
import { errorHandler, frameworkErrorHandler, notFoundHandler } from './http/error-handler.js'
import { type OverloadOptions, overloadGuard } from './http/overload-guard.js'
import { NO_SCHEMA_COMPILERS } from './http/schema-compilers.js'
import { SourceTurns, takeTurns } from './http/source-turns.js'
import { FailureLimiter, type FailureLimitOptions } from './verify/failure-limiter.js'
import { observeWebhooks } from './webhook/observe-webhooks.js'
import type { WebhookContext } from './webhook/webhook-context.js'
import { webhookRoutes } from './webhook/webhook-routes.js'

export interface AppDeps {
  readonly logger: Logger
  readonly store: EventStore
  readonly secrets: SecretRegistry
  /** What the metrics are told; nothing when omitted. */
  readonly observers?: { readonly webhook: WebhookObserver; readonly admission: AdmissionObserver }
  readonly onAccepted?: (service: string, acceptedAt: number) => void
  /** Told of every request refused on a webhook path (401, 404), so that it can be quarantined. */
  readonly quarantine?: RefusalObserver
  /** Defaults to OVERLOAD in constants.ts; tests pass tiny thresholds. */
  readonly overload?: OverloadOptions
  /** Defaults to FAILURE_LIMIT in constants.ts; tests pass tiny limits. */
  readonly failureLimit?: FailureLimitOptions
  /** Which requests go first (trusted sources); tests pass their own to look at it. */
  readonly turns?: SourceTurns
}

/** Fastify takes a hop count at run time but not in its types; a function says the same. */
function trustProxy(value: Config['trustProxy']) {
  if (typeof value !== 'number') return value ?? false
  return (_address: string, hop: number) => hop < value
}

/** The webhook listener. It never listens by itself: server.ts does, tests use `inject`. */
export function buildApp(config: Config, deps: AppDeps): FastifyInstance {
  const observer = deps.observers?.webhook ?? NO_WEBHOOK_OBSERVER
  const admission = deps.observers?.admission ?? NO_ADMISSION_OBSERVER
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // Fastify would make a child logger per request to bind its id; the one line per webhook carries `reqId`
    // itself (observe-webhooks.ts), so every request shares the app's logger and skips that allocation.
    childLoggerFactory: (logger) => logger,
    bodyLimit: config.bodyLimit,
    trustProxy: trustProxy(config.trustProxy),
    ...SERVER_TIMEOUTS,
    http: { ...HTTP_SERVER_OPTIONS },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    frameworkErrors: frameworkErrorHandler(observer),
    schemaController: NO_SCHEMA_COMPILERS,
  })
  app.decorateRequest('webhook', null as unknown as WebhookContext)
  app.setErrorHandler(errorHandler)
  app.setNotFoundHandler(notFoundHandler)
  app.register(async (scope) => {
    observeWebhooks(scope, observer)
    const limiter = new FailureLimiter(deps.failureLimit)
    await overloadGuard(scope, deps.overload, limiter, () => admission.onSuspectRefused())
    const turns = deps.turns ?? new SourceTurns(SOURCE_TURNS, Date.now, () => admission.onAbandoned())
    takeTurns(scope, turns)
    await webhookRoutes(scope, {
      secrets: deps.secrets,
      store: deps.store,
      observer,
      jsonFallback: config.signatureJsonFallback,
      onAccepted: deps.onAccepted ?? (() => {}),
      quarantine: deps.quarantine,
      limiter,
      turns,
    })
  })
  return app
}
