import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { SecretRegistry } from '../config/secret-registry.js'
import { ANSWER, SIGNATURE_HEADER } from '../constants.js'
import type { EventStore } from '../core/event-store.js'
import type { QuarantineReason, RefusalObserver } from '../core/quarantine-store.js'
import { InvalidSignatureError } from '../errors.js'
import { eventId } from '../event/event-id.js'
import { extractMetadata } from '../event/extract-metadata.js'
import type { Metrics } from '../ops/metrics.js'
import { type ServiceKeys, verifySignature } from '../verify/verify-signature.js'
import type { WebhookContext } from './webhook-context.js'

export interface WebhookRoutesOptions {
  readonly secrets: SecretRegistry
  readonly store: EventStore
  readonly metrics: Metrics
  readonly jsonFallback: boolean
  /** Called after a new event is committed, so the forwarder need not poll. */
  readonly onAccepted: () => void
  /** Told of each refused request (bad signature, unknown service), with its bytes; absent: nothing kept. */
  readonly quarantine?: RefusalObserver | undefined
}

/** Paths are kept and logged bounded: a request line can be kilobytes long. */
const MAX_PATH = 256

const headerText = (value: string | string[] | undefined): string | null =>
  typeof value === 'string' ? value : null

const EMPTY = Buffer.alloc(0)

/**
 * `POST /webhooks/:service` and `POST /webhooks`. The plugin replaces every body parser of its scope with one
 * that keeps the raw bytes, whatever the Content-Type: the signature covers bytes, and a JSON parser would
 * hand us a re-serialised object instead.
 */
export async function webhookRoutes(app: FastifyInstance, options: WebhookRoutesOptions) {
  const { secrets, store, metrics, jsonFallback, onAccepted, quarantine } = options

  /** Hands a refused request to the quarantine; the answer to the sender does not change. */
  function refuse(request: FastifyRequest, reason: QuarantineReason, body: Buffer, service: string | null) {
    quarantine?.refused({
      receivedAt: Date.now(),
      reason,
      path: request.url.slice(0, MAX_PATH),
      service,
      sourceAddress: request.ip,
      signature: headerText(request.headers[SIGNATURE_HEADER]),
      contentType: headerText(request.headers['content-type']),
      userAgent: headerText(request.headers['user-agent']),
      body,
    })
  }

  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body))

  async function accept(request: FastifyRequest, reply: FastifyReply, candidates: readonly ServiceKeys[]) {
    const context = request.webhook
    const header = request.headers[SIGNATURE_HEADER]
    const signature = typeof header === 'string' ? header : undefined
    const body = Buffer.isBuffer(request.body) ? request.body : EMPTY
    const verified = verifySignature(candidates, body, signature, jsonFallback)
    if (!verified.ok) {
      metrics.verificationFailures.labels(context.service, verified.reason).inc()
      refuse(request, verified.reason, body, context.service === '*' ? null : context.service)
      throw new InvalidSignatureError()
    }
    context.service = verified.service
    metrics.secretMatches
      .labels(
        verified.service,
        verified.slot === 0 ? 'current' : 'older',
        verified.bytes === body ? 'raw' : 'json_fallback',
      )
      .inc()
    const metadata = extractMetadata(verified.bytes, verified.parsed)
    const id = eventId(verified.service, verified.bytes)
    context.eventId = id
    context.status = metadata.status
    context.merchantOrderId = metadata.merchantOrderId
    const inserted = await store.append({
      id,
      service: verified.service,
      acceptedAt: Date.now(),
      signature: signature!.trim(),
      ...metadata,
      body: verified.bytes,
      recovered: null,
    })
    context.outcome = inserted ? 'accepted' : 'duplicate'
    if (inserted) onAccepted()
    return reply.type('text/plain; charset=utf-8').send(ANSWER.ok)
  }

  app.post('/webhooks', (request, reply) => {
    request.webhook.service = '*'
    return accept(request, reply, secrets.all())
  })

  app.post<{ Params: { service: string } }>(
    '/webhooks/:service',
    {
      // Refuse unknown services before reading a byte of the body. A known one is named now, so that a
      // refusal before the handler (413) is still logged and counted under its service, and its keys (those
      // in effect when the request arrived) are kept for the handler.
      onRequest: (request, reply, done) => {
        const service = secrets.get(request.params.service)
        if (service !== undefined) {
          request.webhook.service = service.name
          request.webhook.keys = service
          return done()
        }
        request.webhook.outcome = 'unknown_service'
        // With a quarantine, the body is read so that a callback sent before its service was configured can
        // be accepted later; without one, nothing of it is read.
        if (quarantine !== undefined) return done()
        reply.code(404).type('text/plain; charset=utf-8').send(ANSWER.notFound)
      },
    },
    (request, reply) => {
      const keys = request.webhook.keys
      if (keys !== undefined) return accept(request, reply, [keys])
      const body = Buffer.isBuffer(request.body) ? request.body : EMPTY
      refuse(request, 'unknown_service', body, request.params.service.slice(0, MAX_PATH))
      return reply.code(404).type('text/plain; charset=utf-8').send(ANSWER.notFound)
    },
  )
}

export type { WebhookContext }
