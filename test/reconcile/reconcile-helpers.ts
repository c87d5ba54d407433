import pino from 'pino'
import { onTestFinished } from 'vitest'
import type { OrderLedger } from '../../src/core/order-ledger.js'
import { Reconciler, type ReconcilerDeps } from '../../src/reconcile/reconciler.js'
import { SqliteOrderLedger } from '../../src/store/sqlite-order-ledger.js'
import { buildTestApp, postWebhook, SECRETS, sign, type TestApp } from '../helpers/index.js'
import { type StandInService, startTyltStandIn, type TyltStandIn } from '../support/tylt-stand-in.js'

/** API keys of the test services; never printed by the relay (the tests grep for them). */
export const API_KEYS = { cpg: 'apikey-cpg-7d41e0c2b9', upi: 'apikey-upi-19f3a8d6c4' } as const

export const STAND_IN_SERVICES: readonly StandInService[] = [
  { name: 'cpg', apiKey: API_KEYS.cpg, secret: SECRETS.cpg },
  { name: 'prime-upi', apiKey: API_KEYS.upi, secret: SECRETS.upiCurrent },
]

export async function standIn(services = STAND_IN_SERVICES): Promise<TyltStandIn> {
  const stand = await startTyltStandIn(services)
  onTestFinished(() => stand.close())
  return stand
}

/** The variables that point reconcile at the stand-in, every order due as soon as it is seen. */
export const reconcileEnv = (stand: TyltStandIn, extra: Record<string, string> = {}) => ({
  TYLT_APIKEY_CPG: API_KEYS.cpg,
  TYLT_APIKEY_PRIME_UPI: API_KEYS.upi,
  TYLT_API_URL: stand.url,
  RECONCILE_AFTER: '1ms',
  RECONCILE_RATE: '50',
  RECONCILE_TIMEOUT: '2s',
  ...extra,
})

export interface ReconcileRig {
  readonly test: TestApp
  readonly ledger: OrderLedger
  reconciler(deps?: Partial<ReconcilerDeps>): Reconciler
  /** Sends the order's current callback through the relay's webhook route. */
  deliver(stand: TyltStandIn, key: string, service?: string): Promise<void>
}

/** A relay app on a temp SQLite store, its order ledger, and reconcilers built on both. */
export async function reconcileRig(env: Record<string, string>): Promise<ReconcileRig> {
  const test = await buildTestApp(env)
  const ledger = new SqliteOrderLedger(test.config.dataDir)
  onTestFinished(() => ledger.close())
  return {
    test,
    ledger,
    reconciler: (deps = {}) =>
      new Reconciler({
        store: test.store,
        ledger,
        config: test.config.reconcile,
        maxBytes: test.config.bodyLimit,
        secretOf: (service) => test.config.services.find((s) => s.name === service)?.secrets[0],
        logger: pino({ level: 'silent' }),
        ...deps,
      }),
    async deliver(stand, key, service = 'cpg') {
      const body = stand.callbackBody(key)
      const secret = service === 'cpg' ? SECRETS.cpg : SECRETS.upiCurrent
      const response = await postWebhook(test.app, `/webhooks/${service}`, body, sign(secret, body))
      if (response.statusCode !== 200) throw new Error(`callback refused: ${response.statusCode}`)
    },
  }
}
