import { createHash, type KeyObject } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import type { Logger } from 'pino'
import { currentApiKey, type ReconcileConfig } from '../config/reconcile-config.js'
import type { EventStore } from '../core/event-store.js'
import type { OrderLedger, OrderRecord } from '../core/order-ledger.js'
import { type CheckContext, checkOrder } from './check-order.js'
import { type OrderResult, type RunReport, type StoppedService, skipped } from './order-result.js'
import { NO_OBSERVER, type ReconcileObserver } from './reconcile-observer.js'
import { MAX_WAIT_MS, ServiceGate, type Sleep } from './service-gate.js'
import type { SigningForm } from './sign-get.js'
import { type CheckedOrder, type NamedOrder, unseenOrder } from './unseen-order.js'

/** Due orders taken per round; the rest wait for the next one. */
const DUE_LIMIT = 1_000

export interface ReconcilerDeps {
  readonly store: EventStore
  readonly ledger: OrderLedger
  readonly config: ReconcileConfig
  /** The service's current secret (the first of TYLT_SECRET_<NAME>), read at each request. */
  readonly secretOf: (service: string) => KeyObject | undefined
  /** The largest answer taken as an event body (BODY_LIMIT). */
  readonly maxBytes: number
  readonly observer?: ReconcileObserver
  readonly logger?: Logger
  readonly now?: () => number
  readonly sleep?: Sleep
}

export interface RunOptions {
  readonly orders?: readonly NamedOrder[]
  readonly dryRun?: boolean
}

/** Orders named on the command line are checked whatever their schedule; without any, the due ones. */
const namesOrders = (options: RunOptions): options is RunOptions & { orders: readonly NamedOrder[] } =>
  options.orders !== undefined && options.orders.length > 0

/**
 * Asks Tylt for the state of the orders that are due (or named), one sequence of requests per service and
 * the services side by side. Keeps, across the rounds of a serving relay, each service's pace, circuit and
 * learnt GET signing form.
 */
export class Reconciler {
  readonly #deps: ReconcilerDeps
  readonly #gates = new Map<string, ServiceGate>()
  readonly #forms = new Map<string, SigningForm>()
  readonly #now: () => number
  readonly #sleep: Sleep

  constructor(deps: ReconcilerDeps) {
    this.#deps = deps
    this.#now = deps.now ?? Date.now
    this.#sleep = deps.sleep ?? ((ms) => delay(ms))
  }

  async run(options: RunOptions = {}): Promise<RunReport> {
    const { ledger, config } = this.#deps
    const observer = this.#deps.observer ?? NO_OBSERVER
    await ledger.catchUp(config.afterMs)
    const results: OrderResult[] = []
    const orders = await this.#select(options, results)
    const byService = new Map<string, CheckedOrder[]>()
    for (const order of orders) byService.set(order.service, [...(byService.get(order.service) ?? []), order])
    const stopped: StoppedService[] = []
    await Promise.all(
      [...byService].map(async ([service, list]) => {
        const outcome = await this.#service(service, list, options)
        results.push(...outcome.results)
        if (outcome.stopped !== undefined) stopped.push(outcome.stopped)
      }),
    )
    // The events just emitted, folded now: the next run compares with them.
    if (options.dryRun !== true) await ledger.catchUp(config.afterMs)
    observer.onRun(orders.length, this.#now())
    return { results, stopped, due: orders.length }
  }

  /**
   * The named orders (the ledger's, else ones it lacks, named with their product), or the due ones; orders
   * past RECONCILE_MAX_AGE are marked abandoned instead.
   */
  async #select(options: RunOptions, results: OrderResult[]): Promise<CheckedOrder[]> {
    const { ledger, config } = this.#deps
    if (namesOrders(options)) {
      const found: CheckedOrder[] = []
      for (const named of options.orders) {
        const records = (await ledger.find(named.id, named.service)).filter(
          (r) => named.product === undefined || r.product === named.product,
        )
        if (records.length > 0) {
          found.push(...records)
          continue
        }
        const unseen = unseenOrder(named, this.#now())
        if ('action' in unseen) results.push(unseen)
        else found.push(unseen)
      }
      return found
    }
    const now = this.#now()
    const due: OrderRecord[] = []
    let abandoned = 0
    for (const order of await ledger.due(now, DUE_LIMIT)) {
      if (!config.targets.some((t) => t.service === order.service)) continue
      if (now < order.firstSeen + config.maxAgeMs) {
        due.push(order)
        continue
      }
      abandoned++
      if (options.dryRun !== true)
        await ledger.recordCheck(order, {
          nextCheck: null,
          checks: order.checks,
          lastResult: 'abandoned',
          abandonedAt: now,
        })
      results.push({ ...skipped(order, 'unresolved past RECONCILE_MAX_AGE'), action: 'abandoned' })
    }
    if (abandoned > 0) (this.#deps.observer ?? NO_OBSERVER).onAbandoned(abandoned)
    return due
  }

  /**
   * A due order as the ledger has it now: a round at RECONCILE_RATE may take minutes, and a callback that
   * arrived meanwhile (folded here first) or another replica's check may have settled it. Undefined when it
   * is no longer due.
   */
  async #stillDue(order: CheckedOrder): Promise<CheckedOrder | undefined> {
    const { ledger, config } = this.#deps
    await ledger.catchUp(config.afterMs)
    const fresh = (await ledger.find(order.orderKey, order.service)).find(
      (r) => r.product === order.product && r.orderKey === order.orderKey,
    )
    if (fresh === undefined || fresh.abandonedAt !== null || fresh.nextCheck === null) return undefined
    return fresh.nextCheck <= this.#now() ? fresh : undefined
  }

  async #service(
    service: string,
    orders: readonly CheckedOrder[],
    options: RunOptions,
  ): Promise<{ results: OrderResult[]; stopped?: StoppedService }> {
    const { config } = this.#deps
    const dryRun = options.dryRun === true
    // Due orders are checked only while still due.
    const named = namesOrders(options)
    const target = config.targets.find((t) => t.service === service)
    const secret = this.#deps.secretOf(service)
    if (target === undefined)
      return { results: orders.map((o) => skipped(o, 'no API key (TYLT_APIKEY_<NAME>)')) }
    if (secret === undefined) return { results: orders.map((o) => skipped(o, 'no secret')) }
    // Tylt's limits go with the key: services that share one share its pace (kept by digest, never the key).
    const gateKey = createHash('sha256').update(currentApiKey(target)).digest('hex')
    let gate = this.#gates.get(gateKey)
    if (gate === undefined) {
      gate = new ServiceGate(config.rate)
      this.#gates.set(gateKey, gate)
    }
    const ctx: CheckContext = {
      target,
      secret,
      gate,
      signing: config.signing,
      forms: this.#forms,
      timeoutMs: config.timeoutMs,
      maxBytes: this.#deps.maxBytes,
      observer: this.#deps.observer ?? NO_OBSERVER,
      now: this.#now,
      sleep: this.#sleep,
      store: this.#deps.store,
      ledger: this.#deps.ledger,
      dryRun,
    }
    const results: OrderResult[] = []
    let stopped: StoppedService | undefined
    for (const order of orders) {
      if (stopped !== undefined) {
        results.push(skipped(order, "not checked: Tylt refused this service's API key"))
        continue
      }
      if (gate.isOpen(this.#now())) {
        results.push(skipped(order, 'not checked: circuit open after repeated failures'))
        continue
      }
      const pausedUntil = gate.pausedUntil()
      if (pausedUntil - this.#now() > MAX_WAIT_MS) {
        const until = new Date(pausedUntil).toISOString()
        results.push(skipped(order, `not checked: Tylt asked for no requests until ${until}`))
        continue
      }
      let current: CheckedOrder | undefined = order
      if (!named && order.unseen !== true) {
        await gate.ready(this.#now, this.#sleep)
        current = await this.#stillDue(order)
        if (current === undefined) continue
      }
      const result = await checkOrder(ctx, current)
      results.push(result)
      this.#deps.logger?.info(
        {
          service,
          product: order.product,
          order: order.orderKey,
          previous: result.previous,
          current: result.current,
          action: result.action,
          httpStatus: result.httpStatus,
        },
        `reconcile ${result.action}`,
      )
      if (result.action === 'auth')
        stopped = { service, reason: `Tylt refused the API key or signature (HTTP ${result.httpStatus})` }
    }
    return stopped === undefined ? { results } : { results, stopped }
  }
}
