import type { KeyObject } from 'node:crypto'
import { DEFAULTS } from '../constants.js'
import { ConfigError } from '../errors.js'
import { parseForwardUrl } from '../forward/parse-forward-url.js'
import { parseSigningSecret } from '../forward/sinks/http/webhook-signature.js'
import { boolean, duration, integer, oneOf, optional, text } from './fields.js'
import { loadOpsToken } from './ops-token.js'
import { loadReconcileConfig, RECONCILE_VARIABLES, type ReconcileConfig } from './reconcile-config.js'
import { loadServiceForwards, type ServiceForward } from './service-forwards.js'
import { loadServices, publicDemo, type ServiceDefinition } from './service-secrets.js'
import { loadStoreUrl, type StoreUrl } from './store-url.js'
import { parseTrustProxy } from './trust-proxy.js'

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/** The one schema: every variable of docs/reference.md section 2 except the per-service ones. */
const schema = {
  host: text('HOST', DEFAULTS.HOST),
  port: integer('PORT', DEFAULTS.PORT, 0, 65_535),
  opsHost: text('OPS_HOST', DEFAULTS.OPS_HOST),
  opsPort: integer('OPS_PORT', DEFAULTS.OPS_PORT, 0, 65_535),
  dataDir: text('DATA_DIR', DEFAULTS.DATA_DIR),
  bodyLimit: integer('BODY_LIMIT', DEFAULTS.BODY_LIMIT, 1, 64 * 1024 * 1024),
  dedupWindowMs: duration('DEDUP_WINDOW', DEFAULTS.DEDUP_WINDOW),
  retryMaxAgeMs: duration('RETRY_MAX_AGE', DEFAULTS.RETRY_MAX_AGE),
  shutdownGraceMs: duration('SHUTDOWN_GRACE', DEFAULTS.SHUTDOWN_GRACE),
  signatureJsonFallback: boolean('SIGNATURE_JSON_FALLBACK', DEFAULTS.SIGNATURE_JSON_FALLBACK),
  logLevel: oneOf('LOG_LEVEL', LOG_LEVELS, DEFAULTS.LOG_LEVEL),
  trustProxy: optional('TRUST_PROXY', parseTrustProxy),
  forward: optional('FORWARD_URL', parseForwardUrl),
  forwardSigningSecret: optional('FORWARD_SIGNING_SECRET', parseSigningSecret),
  quarantineMaxBytes: integer('QUARANTINE_MAX_BYTES', DEFAULTS.QUARANTINE_MAX_BYTES, 0, 2 ** 40),
  quarantineMaxAgeMs: duration('QUARANTINE_MAX_AGE', DEFAULTS.QUARANTINE_MAX_AGE),
}

/**
 * Every variable the relay reads by its exact name (the per-service families are matched by prefix): what
 * the warning about misspelt variables compares against. A new variable goes into the schema or here.
 */
export const KNOWN_VARIABLES: readonly string[] = [
  ...Object.values(schema).map((field) => field.env),
  'STORE_URL',
  'STORE_URL_FILE',
  'OPS_TOKEN',
  'OPS_TOKEN_FILE',
  'NODE_ENV',
  ...RECONCILE_VARIABLES(),
]

/**
 * The public demo secret is refused outright where the environment says it is production; this is the one
 * place the relay reads NODE_ENV, as a refusal, never to change behaviour (docs/reference.md).
 */
function demoInProduction(
  env: Readonly<Record<string, string | undefined>>,
  services: readonly ServiceDefinition[],
) {
  const demo = publicDemo(services)
  if (demo === undefined || env.NODE_ENV?.trim().toLowerCase() !== 'production') return []
  return [
    `${demo.env}: holds the public demo secret of .env.example, refused with NODE_ENV=production (anyone could sign callbacks); use the secret key from the Tylt dashboard`,
  ]
}

type Schema = typeof schema
export type Config = { readonly [K in keyof Schema]: ReturnType<Schema[K]['parse']> } & {
  readonly services: readonly ServiceDefinition[]
  /** OPS_TOKEN or OPS_TOKEN_FILE: the console's token; the console is off without it. */
  readonly opsToken: KeyObject | undefined
  /** Services with a downstream of their own (FORWARD_URL_<NAME>, FORWARD_SIGNING_SECRET_<NAME>). */
  readonly serviceForwards: readonly ServiceForward[]
  /** STORE_URL (or STORE_URL_FILE): PostgreSQL; undefined for the embedded store in DATA_DIR. */
  readonly storeUrl: StoreUrl | undefined
  /** TYLT_APIKEY_<NAME>, TYLT_API_URL and RECONCILE_*: asking Tylt for the state of orders. */
  readonly reconcile: ReconcileConfig
}

export interface LoadOptions {
  /** Commands that only read the store (`events ...`) run without any service secret. */
  readonly requireServices?: boolean
}

/**
 * Validates the whole environment at once and returns a frozen configuration, or throws a ConfigError that
 * lists every problem, so an operator fixes them in one round rather than one restart per mistake.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>, options: LoadOptions = {}) {
  const problems: string[] = []
  const values: Record<string, unknown> = {}
  for (const [key, field] of Object.entries(schema)) {
    try {
      values[key] = field.parse(env[field.env])
    } catch (err) {
      problems.push((err as Error).message)
    }
  }
  const services = loadServices(env, problems)
  problems.push(...demoInProduction(env, services))
  const opsToken = loadOpsToken(env, problems)
  const storeUrl = loadStoreUrl(env, problems)
  const reconcile = loadReconcileConfig(
    env,
    services.map((s) => s.name),
    problems,
  )
  if (
    services.length === 0 &&
    options.requireServices !== false &&
    !problems.some((p) => p.startsWith('TYLT_SECRET_'))
  ) {
    problems.push('no service is configured: set TYLT_SECRET_<NAME> or TYLT_SECRET_<NAME>_FILE')
  }
  const forward = values.forward as Config['forward']
  if (values.forwardSigningSecret !== undefined && forward !== undefined && forward.kind !== 'http') {
    problems.push('FORWARD_SIGNING_SECRET only applies to an http:// or https:// FORWARD_URL')
  }
  const serviceForwards = loadServiceForwards(
    env,
    services.map((s) => s.name),
    problems,
  )
  for (const own of serviceForwards) {
    const kind = (own.target ?? forward)?.kind
    if (own.signingSecret !== undefined && kind !== 'http') {
      problems.push(
        `FORWARD_SIGNING_SECRET_* for service "${own.service}" only applies to an http:// or https:// downstream`,
      )
    }
  }
  if (problems.length > 0) throw new ConfigError(problems.map((p) => `  - ${p}`).join('\n'))
  return Object.freeze({
    ...values,
    services: Object.freeze(services),
    opsToken,
    serviceForwards: Object.freeze(serviceForwards),
    storeUrl,
    reconcile,
  }) as Config
}
