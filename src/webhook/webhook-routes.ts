import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { SourceStanding } from '../admission/source-budget.js'
import type { SecretRegistry } from '../config/secret-registry.js'
import { ANSWER, OUTCOME_HEADER, SIGNATURE_HEADER, TEXT_PLAIN } from '../constants.js'
import type { EventStore } from '../core/event-store.js'
import { NO_WEBHOOK_OBSERVER, type WebhookObserver } from '../core/observers.js'
import type { QuarantineReason, RefusalObserver } from '../core/quarantine-store.js'
import { InvalidSignatureError } from '../errors.js'
import { eventId } from '../event/event-id.js'
import { extractMetadata } from '../event/extract-metadata.js'
import { type FailureReason, type ServiceKeys, verifySignature } from '../verify/verify-signature.js'
import { MAX_PATH } from './observe-webhooks.js'
import type { WebhookContext } from './webhook-context.js'

export interface WebhookRoutesOptions {
  readonly secrets: SecretRegistry
  readonly store: EventStore
  readonly observer?: WebhookObserver | undefined
  readonly jsonFallback: boolean
  /**
   * Called after a new event is committed, with its service and acceptance time (ms): the forwarder need not
   * poll, and the console keeps each service's last accepted callback past the store's pruning.
   */
  readonly onAccepted: (service: string, acceptedAt: number) => void
  /** Told of each refused request (bad signature, unknown service), with its bytes; absent: nothing kept. */
  readonly quarantine?: RefusalObserver | undefined
  /** Admission's view of each source: told which verified, asked which are penalised. */
  readonly sources: SourceStanding
}

const headerText = (value: string | string[] | undefined): string | null =>
  typeof value === 'string' ? value : null

const EMPTY = Buffer.alloc(0)
/** The body as the raw-bytes parser kept it; empty when there was none. */
const rawBody = (request: FastifyRequest): Buffer => (Buffer.isBuffer(request.body) ? request.body : EMPTY)

/**
 * Takes the Content-Type off the request before Fastify reads it: the signature covers bytes, whatever the
 * media type, and Fastify refuses with 415 a header it cannot parse (empty, or a list such as
 * `application/json, text/plain`). The value is kept for the quarantine.
 */
function takeContentType(request: FastifyRequest) {
  const type = request.headers['content-type']
  if (type === undefined) return
  request.webhook.contentType = type
  request.headers['content-type'] = undefined
}

/**
 * `POST /webhooks/:service` and `POST /webhooks` (a trailing slash and the service's case do not matter).
 * The plugin replaces every body parser of its scope with one that keeps the raw bytes: the signature covers
 * bytes, and a JSON parser would hand us a re-serialised object instead.
 */
export async function webhookRoutes(app: FastifyInstance, options: WebhookRoutesOptions) {
  const { secrets, store, jsonFallback, onAccepted, quarantine, sources } = options
  const observer = options.observer ?? NO_WEBHOOK_OBSERVER

  /** Hands a refused request to the quarantine; the answer to the sender does not change. */
  function refuse(request: FastifyRequest, reason: QuarantineReason, body: Buffer, service: string | null) {
    quarantine?.refused({
      receivedAt: Date.now(),
      reason,
      path: request.url.slice(0, MAX_PATH),
      service,
      sourceAddress: request.ip,
      signature: headerText(request.headers[SIGNATURE_HEADER]),
      contentType: request.webhook.contentType,
      userAgent: headerText(request.headers['user-agent']),
      body,
      fromVerifiedSource: sources.verifiedRecently(request.ip),
    })
  }

  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body))

  /**
   * Counts a refused signature and hands it to the quarantine unless its source is penalised. Returns the
   * error that answers 401 (admission charges the source for it once answered).
   */
  function refuseSignature(request: FastifyRequest, reason: FailureReason, body: Buffer, penalised: boolean) {
    const context = request.webhook
    observer.onSignatureFailed(context.service, reason)
    context.reason = reason
    context.overLimit = penalised
    if (!penalised) refuse(request, reason, body, context.service === '*' ? null : context.service)
    return new InvalidSignatureError()
  }

  async function accept(request: FastifyRequest, reply: FastifyReply, candidates: readonly ServiceKeys[]) {
    const context = request.webhook
    const header = request.headers[SIGNATURE_HEADER]
    const signature = typeof header === 'string' ? header : undefined
    const body = rawBody(request)
    // A penalised source still has its raw bytes checked (a genuine callback may share its address with a
    // flood), but gets no fallback: the one costly step a forgery can ask for. Asked only when it matters.
    const penalised = () => sources.penalised(request.ip)
    const verified = verifySignature(candidates, body, signature, jsonFallback && (() => !penalised()))
    if (!verified.ok) throw refuseSignature(request, verified.reason, body, penalised())
    sources.verified(request.ip)
    context.service = verified.service
    observer.onVerified(
      verified.service,
      verified.slot === 0 ? 'current' : 'older',
      verified.bytes === body ? 'raw' : 'json_fallback',
    )
    const metadata = extractMetadata(verified.bytes, verified.parsed)
    const id = eventId(verified.service, verified.bytes)
    context.eventId = id
    context.status = metadata.status
    context.merchantOrderId = metadata.merchantOrderId
    const acceptedAt = Date.now()
    const inserted = await store.append({
      id,
      service: verified.service,
      acceptedAt,
      signature: signature!.trim(),
      ...metadata,
      body: verified.bytes,
      recovered: null,
    })
    context.outcome = inserted ? 'accepted' : 'duplicate'
    if (inserted) onAccepted(verified.service, acceptedAt)
    return reply.type(TEXT_PLAIN).header(OUTCOME_HEADER, context.outcome).send(ANSWER.ok)
  }

  const anyService = {
    onRequest: (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
      request.webhook.service = '*'
      takeContentType(request)
      done()
    },
  }
  const handleAny = (request: FastifyRequest, reply: FastifyReply) => accept(request, reply, secrets.all())
  app.post('/webhooks', anyService, handleAny)
  app.post('/webhooks/', anyService, handleAny)

  /** A service nobody configured: refused before a byte of the body is read, unless the quarantine wants it. */
  function unknownService(request: FastifyRequest, reply: FastifyReply, done: () => void) {
    request.webhook.outcome = 'unknown_service'
    request.webhook.reason = 'unknown_service'
    request.webhook.overLimit = sources.penalised(request.ip)
    // With a quarantine, the body is read so that a callback sent before its service was configured can be
    // accepted later; without one, or from a penalised source, nothing of it is read, nor drained after.
    if (quarantine !== undefined && !request.webhook.overLimit) return done()
    reply.code(404).header('connection', 'close').type(TEXT_PLAIN).send(ANSWER.notFound)
  }
  const refuseUnknown = (request: FastifyRequest, reply: FastifyReply, asked: string) => {
    refuse(request, 'unknown_service', rawBody(request), asked.slice(0, MAX_PATH))
    return reply.code(404).type(TEXT_PLAIN).send(ANSWER.notFound)
  }

  type Named = FastifyRequest<{ Params: { service: string } }>
  const namedService = {
    // A known service is named now, so that a refusal before the handler (413) is still logged and counted
    // under its service, and its keys (those in effect when the request arrived) are kept for the handler.
    onRequest: (request: Named, reply: FastifyReply, done: () => void) => {
      takeContentType(request)
      const asked = request.params.service
      const service = secrets.get(asked)
      if (service === undefined) return unknownService(request, reply, done)
      request.webhook.service = service.name
      request.webhook.keys = service
      done()
    },
  }
  const handleNamed = (request: Named, reply: FastifyReply) => {
    const keys = request.webhook.keys
    if (keys !== undefined) return accept(request, reply, [keys])
    return refuseUnknown(request, reply, request.params.service)
  }
  app.post('/webhooks/:service', namedService, handleNamed)
  app.post('/webhooks/:service/', namedService, handleNamed)

  // Deeper paths (`/webhooks/cpg/extra`, a URL pasted twice) name no service either: the same 404.
  type Deeper = FastifyRequest<{ Params: { '*': string } }>
  const deeper = {
    onRequest: (request: Deeper, reply: FastifyReply, done: () => void) => {
      takeContentType(request)
      unknownService(request, reply, done)
    },
  }
  app.post('/webhooks/*', deeper, (request: Deeper, reply) =>
    refuseUnknown(request, reply, request.params['*']),
  )
}

export type { WebhookContext }
