import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { ANSWER, RETRY_AFTER_SECONDS, TEXT_PLAIN } from '../constants.js'
import type { Outcome, WebhookObserver } from '../core/observers.js'
import { refusalFields, serviceAsked } from '../webhook/observe-webhooks.js'

const OUTCOME_BY_STATUS: Record<number, Outcome> = {
  401: 'invalid_signature',
  404: 'unknown_service',
  413: 'too_large',
  503: 'unavailable',
}

/**
 * The one error handler: a plain-text answer per status. Client errors say what was wrong; server errors say
 * nothing of their internals (the log has them, under `err`).
 */
export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const status = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500
  // A service nobody configured is answered 404 whether or not the quarantine reads the body: one over
  // BODY_LIMIT, refused while being read for the quarantine, gets the 404 it gets with the quarantine off.
  if (status === 413 && request.webhook !== null && request.webhook.outcome === 'unknown_service')
    return reply.code(404).type(TEXT_PLAIN).send(ANSWER.notFound)
  if (request.webhook !== null) request.webhook.outcome ??= OUTCOME_BY_STATUS[status] ?? 'error'
  reply.code(status).type(TEXT_PLAIN)
  if (status === 401) return reply.send(ANSWER.invalidSignature)
  if (status === 413) return reply.send(ANSWER.tooLarge)
  if (error.code === 'TYLT_OVERLOADED') {
    // One line per refusal is already logged by observeWebhooks; more logging under overload adds load.
    return reply.header('retry-after', String(RETRY_AFTER_SECONDS)).send(ANSWER.overloaded)
  }
  if (status === 503) {
    request.log.error({ err: error, reqId: request.id }, 'event not made durable; answered 503')
    return reply.header('retry-after', String(RETRY_AFTER_SECONDS)).send(ANSWER.unavailable)
  }
  if (status >= 500) {
    request.log.error({ err: error, reqId: request.id }, 'request failed')
    return reply.send('internal error')
  }
  return reply.send(error.message)
}

export function notFoundHandler(_request: FastifyRequest, reply: FastifyReply) {
  return reply.code(404).type(TEXT_PLAIN).send(ANSWER.notFound)
}

/**
 * Fastify's own refusals before any route runs, which it would answer in JSON: a path whose percent-encoding
 * does not decode (400), and a path segment longer than the router takes (no configured service name is
 * that long, so it is an unknown service: 404). Answered in plain text like everything on this port, and
 * logged and counted like any refused webhook request.
 */
export function frameworkErrorHandler(observer: WebhookObserver) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH'
    const status = tooLong ? 404 : error.code === 'FST_ERR_BAD_URL' ? 400 : 500
    if (serviceAsked(request.url) !== null && status < 500) {
      const reason = tooLong ? 'unknown_service' : 'bad_url'
      const outcome: Outcome = tooLong ? 'unknown_service' : 'error'
      observer.onAnswered('unknown', outcome, reply.elapsedTime)
      observer.onRefused(reason, false)
      request.log.info(
        {
          reqId: request.id,
          service: 'unknown',
          outcome,
          statusCode: status,
          ip: request.ip,
          ...refusalFields(request, reason),
        },
        'webhook',
      )
    }
    reply.code(status).type(TEXT_PLAIN)
    return reply.send(status === 404 ? ANSWER.notFound : status === 400 ? ANSWER.badUrl : 'internal error')
  }
}
