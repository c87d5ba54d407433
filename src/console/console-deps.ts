import type { KeyObject } from 'node:crypto'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { Registry } from 'prom-client'
import type { EventStore } from '../core/event-store.js'
import type { OrderLedger, OrderRecord } from '../core/order-ledger.js'
import type { QuarantinedRequest, QuarantineReason, QuarantineStore } from '../core/quarantine-store.js'
import type { DownstreamStatus } from '../core/sink.js'
import type { PageContext } from './layout.js'

/** Whether a quarantined request verifies with the secrets configured now, and with which. */
export type QuarantineVerdict =
  | { readonly verifies: true; readonly service: string; readonly slot: number }
  | { readonly verifies: false; readonly reason: QuarantineReason }

/** What retrying a quarantined request came to. */
export type QuarantineRetryOutcome = 'accepted' | 'duplicate' | 'refused' | 'missing'

/** What asking Tylt about one order now came to (reconcile's result, without its request details). */
export interface CheckOutcome {
  readonly action: string
  readonly current: string | null
  readonly detail?: string | undefined
}

/** The order ledger for the Orders screen, and reconcile's "check now" where a service has an API key. */
export interface OrdersDeps {
  /** The ledger, caught up with the store's events before it is read. */
  readonly ledger: () => Promise<OrderLedger>
  /** Services with an API key (TYLT_APIKEY_<NAME>): only their orders can be checked. */
  readonly checkable: readonly string[]
  readonly checkNow: (order: OrderRecord) => Promise<CheckOutcome>
}

/** What the console reads and acts on; everything beyond the store and the token is optional. */
export interface ConsoleDeps {
  /** OPS_TOKEN: the console is not mounted without it. */
  readonly token: KeyObject
  readonly store: EventStore
  /** The configured service names. */
  readonly services: readonly string[]
  /** The metrics registry, to read which secret slot matched (tylt_relay_secret_matches_total). */
  readonly registry?: Registry | undefined
  /** Per service, when this relay last accepted a new callback (ms), since it started. */
  readonly lastAccepted?: ReadonlyMap<string, number> | undefined
  readonly downstreams?: (() => readonly DownstreamStatus[]) | undefined
  readonly quarantine?: QuarantineStore | undefined
  /** Verifies a quarantined request again with today's secrets, accepting it if it passes. */
  readonly retryQuarantined?: ((id: string) => Promise<QuarantineRetryOutcome>) | undefined
  /** Verifies a quarantined request with today's secrets, changing nothing. */
  readonly verifyQuarantined?: ((request: QuarantinedRequest) => QuarantineVerdict) | undefined
  readonly orders?: OrdersDeps | undefined
  /** Tells the forwarder that replayed events are waiting. */
  readonly wake?: (() => void) | undefined
  readonly now?: (() => number) | undefined
}

/** What a page handler answers: a page, or (after an action) a message and where to go next. */
export type Answer =
  | { readonly page: string; readonly status?: number }
  | { readonly flash?: string | undefined; readonly to: string }
export type Handler = (request: FastifyRequest, ctx: PageContext) => Promise<Answer>

/**
 * The console as a plugin for the operations listener. Its pages are loaded only when it is mounted (OPS_TOKEN
 * set): a relay without the console does not carry them in memory.
 */
export const consoleMount =
  (deps: ConsoleDeps): FastifyPluginAsync =>
  async (scope) =>
    (await import('./console-plugin.js')).consolePlugin(scope, deps)
