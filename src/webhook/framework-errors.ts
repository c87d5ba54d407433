import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import { ANSWER, TEXT_PLAIN } from '../constants.js'
import type { Outcome, WebhookObserver } from '../core/observers.js'
import { refusalFields, serviceAsked } from './observe-webhooks.js'
import { webhookLineWriter } from './webhook-line.js'

/**
 * Fastify's own refusals before any route runs, which it would answer in JSON: a path whose percent-encoding
 * does not decode (400), and a path segment longer than the router takes (no configured service name is
 * that long, so it is an unknown service: 404). Answered in plain text like everything on this port, and
 * logged and counted like any refused webhook request.
 */
export function frameworkErrorHandler(observer: WebhookObserver) {
  let write: ReturnType<typeof webhookLineWriter> | undefined
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH'
    const status = tooLong ? 404 : error.code === 'FST_ERR_BAD_URL' ? 400 : 500
    if (serviceAsked(request.url) !== null && status < 500) {
      const reason = tooLong ? 'unknown_service' : 'bad_url'
      const outcome: Outcome = tooLong ? 'unknown_service' : 'error'
      observer.onAnswered('unknown', outcome, reply.elapsedTime)
      observer.onRefused(reason, false)
      write ??= webhookLineWriter(request.log as unknown as Logger)
      write({
        reqId: request.id,
        service: 'unknown',
        outcome,
        statusCode: status,
        ip: request.ip,
        ...refusalFields(request, reason),
      })
    }
    reply.code(status).type(TEXT_PLAIN)
    return reply.send(status === 404 ? ANSWER.notFound : status === 400 ? ANSWER.badUrl : 'internal error')
  }
}
