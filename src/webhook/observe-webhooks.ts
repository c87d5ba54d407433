import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import type { WebhookObserver } from '../core/observers.js'
import { FLAT_LINE_REDACT } from '../logger.js'
import { newWebhookContext, type RefusalReason } from './webhook-context.js'
import { webhookLineWriter } from './webhook-line.js'

/** Paths and service names are kept and logged bounded: a request line can be kilobytes long. */
export const MAX_PATH = 256
const LOGGED_SERVICE = 128

/** The service a webhook path asks for: `*` for `POST /webhooks`, null when the path names none. */
export function serviceAsked(path: string): string | null {
  const match = /^\/webhooks(?:\/([^/?]*))?/.exec(path)
  if (match === null) return null
  return match[1] === undefined || match[1] === '' ? '*' : match[1].slice(0, LOGGED_SERVICE)
}

/** The extra fields of a refused request's line: what an operator needs to see which URL was wrong. */
export function refusalFields(request: FastifyRequest, reason: RefusalReason) {
  return {
    method: request.method,
    path: request.url.slice(0, MAX_PATH),
    asked: serviceAsked(request.url),
    reason,
  }
}

/**
 * One log line and one set of metrics per webhook request, whatever its outcome. The line carries ids and
 * outcome only: never the signature, a secret or the body (it holds `userDetails`). A refused request
 * (bad signature, unknown service) also carries its method, path, the service it asked for and the reason,
 * and is counted by reason (never by path: that label would be unbounded).
 */
export function observeWebhooks(app: FastifyInstance, observer: WebhookObserver) {
  // Every value of the line is a string, number or null (see FLAT_LINE_REDACT); reqId is what request.log adds.
  const log = app.log.child({}, { redact: FLAT_LINE_REDACT })
  const write = webhookLineWriter(log as Logger)
  app.addHook('onRequest', (request, _reply, done) => {
    request.webhook = newWebhookContext()
    done()
  })
  app.addHook('onResponse', (request, reply, done) => {
    const context = request.webhook
    const outcome = context.outcome ?? (reply.statusCode < 400 ? 'accepted' : 'error')
    const ms = reply.elapsedTime
    observer.onAnswered(context.service, outcome, ms)
    const line = {
      reqId: request.id,
      service: context.service,
      outcome,
      eventId: context.eventId,
      status: context.status,
      merchantOrderId: context.merchantOrderId,
      statusCode: reply.statusCode,
      ms: Math.round(ms * 100) / 100,
      ip: request.ip,
    }
    if (context.reason === undefined) write(line)
    else {
      observer.onRefused(context.reason, context.overLimit)
      write({ ...line, ...refusalFields(request, context.reason), overLimit: context.overLimit })
    }
    done()
  })
}
