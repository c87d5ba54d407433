import type { RelayEvent } from '../core/event.js'
import type { EventStore } from '../core/event-store.js'
import type { QuarantinedRequest, QuarantineReason, QuarantineStore } from '../core/quarantine-store.js'
import { eventId } from '../event/event-id.js'
import { extractMetadata } from '../event/extract-metadata.js'
import { type ServiceKeys, verifySignature } from '../verify/verify-signature.js'

/** The secrets configured now, as `loadConfig` returns them. */
export interface RetrySecrets {
  readonly services: readonly ServiceKeys[]
  readonly signatureJsonFallback: boolean
}

export type RetryOutcome =
  | {
      readonly id: string
      readonly outcome: 'accepted' | 'duplicate'
      readonly event: RelayEvent
      readonly slot: number
      /** Only the re-serialised body verified (SIGNATURE_JSON_FALLBACK): that is what was stored. */
      readonly fallback: boolean
    }
  | {
      readonly id: string
      readonly outcome: 'refused'
      readonly reason: QuarantineReason
      readonly request: QuarantinedRequest
    }
  | { readonly id: string; readonly outcome: 'missing' }

/**
 * The services a quarantined request is verified against now: the one its path named, when it is
 * configured now; every service for `POST /webhooks`, as the webhook route does. `service` overrides the
 * path (a callback URL with a typo in the service name).
 */
export function candidatesFor(
  request: QuarantinedRequest,
  services: readonly ServiceKeys[],
  service?: string,
): ServiceKeys[] {
  const named = service ?? request.service
  if (named === null) return [...services]
  return services.filter((s) => s.name === named)
}

/** Verifies one request again; the event it becomes when it verifies, exactly as the webhook route builds it. */
export function recover(request: QuarantinedRequest, secrets: RetrySecrets, service?: string) {
  const candidates = candidatesFor(request, secrets.services, service)
  if (candidates.length === 0) return { ok: false as const, reason: 'unknown_service' as const }
  const signature = request.signature ?? undefined
  const verified = verifySignature(candidates, request.body, signature, secrets.signatureJsonFallback)
  if (!verified.ok) return { ok: false as const, reason: verified.reason }
  const event: RelayEvent = {
    id: eventId(verified.service, verified.bytes),
    service: verified.service,
    // Accepted as if it had arrived then: the time it was received, and a recovery mark for consumers.
    acceptedAt: request.receivedAt,
    signature: signature!.trim(),
    ...extractMetadata(verified.bytes, verified.parsed),
    body: verified.bytes,
    recovered: 'quarantine',
  }
  return { ok: true as const, event, slot: verified.slot, fallback: verified.bytes !== request.body }
}

/**
 * `quarantine retry`: verifies each request again with the secrets configured now; what verifies is appended
 * to the event store (durable before it leaves the quarantine), what does not stays. A request already
 * retried is gone: it reports `missing` and nothing happens.
 */
export async function retryQuarantined(
  quarantine: QuarantineStore,
  events: EventStore,
  secrets: RetrySecrets,
  ids: readonly string[] | 'all',
  now: number,
  service?: string,
): Promise<RetryOutcome[]> {
  const targets =
    ids === 'all' ? (await quarantine.list(Number.MAX_SAFE_INTEGER)).map((s) => s.id).reverse() : ids
  const outcomes: RetryOutcome[] = []
  for (const id of targets) {
    const request = await quarantine.get(id)
    if (request === undefined) {
      outcomes.push({ id, outcome: 'missing' })
      continue
    }
    const recovered = recover(request, secrets, service)
    if (!recovered.ok) {
      outcomes.push({ id, outcome: 'refused', reason: recovered.reason, request })
      continue
    }
    const inserted = await events.append(recovered.event)
    // Its retry clock starts now, not at its arrival: a request kept for days would otherwise be past
    // RETRY_MAX_AGE at its first failed delivery. Only a new event: a duplicate keeps its own state.
    if (inserted) await restartClock(events, recovered.event.id, now)
    await quarantine.remove([id])
    outcomes.push({
      id,
      outcome: inserted ? 'accepted' : 'duplicate',
      event: recovered.event,
      slot: recovered.slot,
      fallback: recovered.fallback,
    })
  }
  return outcomes
}

async function restartClock(events: EventStore, id: string, now: number): Promise<void> {
  const stored = await events.get(id)
  if (stored?.state === 'pending' && stored.retrySince < now) await events.replay([id], now)
}
