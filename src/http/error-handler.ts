import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { ANSWER, RETRY_AFTER_SECONDS, TEXT_PLAIN } from '../constants.js'

type Outcome = NonNullable<FastifyRequest['webhook']['outcome']>

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
  if (request.webhook !== null)
    request.webhook.outcome ??=
      error.code === 'TYLT_OVERLOADED' ? 'overloaded' : (OUTCOME_BY_STATUS[status] ?? 'error')
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
