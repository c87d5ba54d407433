import type { SinkKind } from '../core/sink.js'
import type { ForwardTarget } from './parse-forward-url.js'

/** A service's own downstream: `FORWARD_URL_<NAME>` and/or `FORWARD_SIGNING_SECRET_<NAME>`. */
export interface ServiceForward {
  /** The service, as in its URL (`PRIME_UPI` is `prime-upi`). */
  readonly service: string
  /** Its own FORWARD_URL; undefined keeps FORWARD_URL. */
  readonly target: ForwardTarget | undefined
  /** Its own signing secret; undefined keeps FORWARD_SIGNING_SECRET. */
  readonly signingSecret: Buffer | undefined
}

/** One downstream of the relay and the services whose events go there; one forwarder each. */
export interface PlannedDownstream {
  readonly kind: SinkKind
  /** The URL without its password: safe for logs, metrics labels and command output. */
  readonly target: string
  /** The services it forwards; null for every service without a downstream of its own (FORWARD_URL). */
  readonly services: readonly string[] | null
  /** What its forwarder reads: these services only, or every service (undefined). */
  readonly reads: readonly string[] | undefined
  readonly forward: ForwardTarget
  readonly signingSecret: Buffer | undefined
}

/** The parts of the configuration that say where events go. */
export interface ForwardingConfig {
  readonly forward: ForwardTarget | undefined
  readonly forwardSigningSecret: Buffer | undefined
  readonly services: readonly { readonly name: string }[]
  readonly serviceForwards: readonly ServiceForward[]
}

const keyOf = (forward: ForwardTarget, secret: Buffer | undefined) =>
  `${forward.kind}|${forward.redacted}|${secret?.toString('base64') ?? ''}`

/**
 * Maps the configuration to its downstreams. A service with FORWARD_URL_<NAME> or
 * FORWARD_SIGNING_SECRET_<NAME> goes to that downstream; every other service to FORWARD_URL. Services that
 * end up with the same URL and signing secret share one downstream (and one forwarder, one order).
 * A service with no downstream at all keeps its events in the store (the embedded mode).
 */
export function planDownstreams(config: ForwardingConfig): PlannedDownstream[] {
  const own = new Map(config.serviceForwards.map((f) => [f.service, f]))
  const groups = new Map<string, { forward: ForwardTarget; secret: Buffer | undefined; services: string[] }>()
  const defaultKey =
    config.forward === undefined ? undefined : keyOf(config.forward, config.forwardSigningSecret)
  for (const { name } of config.services) {
    const forward = own.get(name)?.target ?? config.forward
    if (forward === undefined) continue
    const secret = own.get(name)?.signingSecret ?? config.forwardSigningSecret
    const key = keyOf(forward, secret)
    const group = groups.get(key) ?? { forward, secret, services: [] }
    group.services.push(name)
    groups.set(key, group)
  }
  if (config.forward !== undefined && defaultKey !== undefined && !groups.has(defaultKey)) {
    groups.set(defaultKey, { forward: config.forward, secret: config.forwardSigningSecret, services: [] })
  }
  const separate = groups.size > 1
  return [...groups.entries()].map(([key, group]) => {
    const isDefault = key === defaultKey
    return {
      kind: group.forward.kind,
      target: group.forward.redacted,
      services: isDefault ? null : group.services,
      // Alone, the default downstream reads every service, including those of events accepted under an
      // older configuration; beside others, only its own.
      reads: isDefault && !separate ? undefined : group.services,
      forward: group.forward,
      signingSecret: group.secret,
    }
  })
}

/**
 * The safe target of the downstream an event of `service` goes to; null when none reads it (no downstream
 * configured, or a service no longer configured while some service has a downstream of its own: its
 * leftover events stay pending until it is configured again).
 */
export function downstreamOf(plan: readonly PlannedDownstream[], service: string): string | null {
  const own = plan.find((d) => d.services?.includes(service))
  if (own !== undefined) return own.target
  const rest = plan.find((d) => d.services === null)
  if (rest === undefined || (rest.reads !== undefined && !rest.reads.includes(service))) return null
  return rest.target
}

/** Whether a service's events go anywhere under this plan: the ones that do not are appended `stored`. */
export const hasDownstreamIn =
  (plan: readonly PlannedDownstream[]) =>
  (service: string): boolean =>
    downstreamOf(plan, service) !== null
