import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify'
import type { Logger } from 'pino'
import { admission, type PressureReading } from './admission/admission.js'
import type { AdmissionLimits } from './admission/admission-limits.js'
import { SourceBudget } from './admission/source-budget.js'
import type { Config } from './config/load-config.js'
import type { SecretRegistry } from './config/secret-registry.js'
import { HTTP_SERVER_OPTIONS, SERVER_TIMEOUTS } from './constants.js'
import type { EventStore } from './core/event-store.js'
import {
  type AdmissionObserver,
  NO_ADMISSION_OBSERVER,
  NO_WEBHOOK_OBSERVER,
  type WebhookObserver,
} from './core/observers.js'
import type { RefusalObserver } from './core/quarantine-store.js'
import { errorHandler, notFoundHandler } from './http/error-handler.js'
import { NO_SCHEMA_COMPILERS } from './http/schema-compilers.js'
import { frameworkErrorHandler } from './webhook/framework-errors.js'
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
  /** Each source's budget, shared with the quarantine (which asks which sources verified recently). */
  readonly sources?: SourceBudget
  /** ADMISSION's limits and the event-loop sample interval; tests pass tiny ones. */
  readonly admission?: Partial<AdmissionLimits> & { readonly sampleIntervalMs?: number }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The event-loop monitor's last reading (admission's pressure), for the event-loop gauges. */
    pressure(): PressureReading
  }
}

/** Fastify takes a hop count at run time but not in its types; a function says the same. */
function trustProxy(value: Config['trustProxy']) {
  if (typeof value !== 'number') return value ?? false
  return (_address: string, hop: number) => hop < value
}

/** The webhook listener. It never listens by itself: server.ts does, tests use `inject`. */
export function buildApp(config: Config, deps: AppDeps): FastifyInstance {
  const observer = deps.observers?.webhook ?? NO_WEBHOOK_OBSERVER
  const admitted = deps.observers?.admission ?? NO_ADMISSION_OBSERVER
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
  const { sampleIntervalMs, ...limits } = deps.admission ?? {}
  const sources = deps.sources ?? new SourceBudget(limits)
  let reading: () => PressureReading
  app.decorate('pressure', () => reading())
  app.register(async (scope) => {
    observeWebhooks(scope, observer)
    reading = await admission(scope, {
      budget: sources,
      limits,
      sampleIntervalMs,
      onAbandoned: () => admitted.onAbandoned(),
    })
    await webhookRoutes(scope, {
      secrets: deps.secrets,
      store: deps.store,
      observer,
      jsonFallback: config.signatureJsonFallback,
      onAccepted: deps.onAccepted ?? (() => {}),
      quarantine: deps.quarantine,
      sources,
    })
  })
  return app
}
