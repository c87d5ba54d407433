import { createSecretKey, type KeyObject } from 'node:crypto'
import { parseDuration } from './duration.js'
import { duration, type Field, integer, oneOf } from './fields.js'
import { readFileVariable } from './file-variable.js'
import { urlName } from './service-secrets.js'

export const APIKEY_PREFIX = 'TYLT_APIKEY_'
export const API_URL_VARIABLE = 'TYLT_API_URL'
/** The only base URL Tylt documents, for Demo and Production keys alike. */
export const DEFAULT_API_URL = 'https://api.tylt.money'
export const GET_SIGNING_FORMS = ['json', 'query', 'auto'] as const
export type GetSigning = (typeof GET_SIGNING_FORMS)[number]

/** A service whose orders reconcile may ask Tylt about: it has an API key. */
export interface ReconcileTarget {
  readonly service: string
  /** The variable the key came from, for messages (never the key). */
  readonly env: string
  /** The key file, read again for every request (a rotated key takes effect without a restart); null inline. */
  readonly file: string | null
  /** The key as loaded; a KeyObject prints as `SecretKeyObject {}`, so a stray log cannot leak it. */
  readonly apiKey: KeyObject
  /** Base URL: TYLT_API_URL_<NAME>, else TYLT_API_URL, else Tylt's. */
  readonly url: string
}

export interface ReconcileConfig {
  /** RECONCILE_INTERVAL: 0 runs reconcile only from the command line. */
  readonly intervalMs: number
  /** RECONCILE_AFTER: the grace after an order's deadline before its first check. */
  readonly afterMs: number
  /** RECONCILE_MAX_AGE: an order unresolved this long after it was first seen is abandoned. */
  readonly maxAgeMs: number
  /** RECONCILE_RATE: requests per second per API key. */
  readonly rate: number
  readonly timeoutMs: number
  readonly signing: GetSigning
  readonly targets: readonly ReconcileTarget[]
}

/** A duration where `0` means off (RECONCILE_INTERVAL). */
const durationOrOff = (env: string, fallback: string): Field<number> => ({
  env,
  parse: (raw) => {
    const text = raw === undefined || raw.trim() === '' ? fallback : raw.trim()
    if (text === '0') return 0
    const value = parseDuration(text)
    if (value === undefined || value <= 0)
      throw new Error(`${env} must be 0 (off) or a duration such as 5m or 1h, got "${raw}"`)
    return value
  },
})

/** The variables of reconcile read by their exact name (the per-service ones are matched by prefix). */
export const RECONCILE_VARIABLES = (): string[] => [
  API_URL_VARIABLE,
  ...Object.values(fields).map((f) => f.env),
]

const fields = {
  intervalMs: durationOrOff('RECONCILE_INTERVAL', '0'),
  afterMs: duration('RECONCILE_AFTER', '15m'),
  maxAgeMs: duration('RECONCILE_MAX_AGE', '72h'),
  rate: integer('RECONCILE_RATE', 2, 1, 1_000),
  timeoutMs: duration('RECONCILE_TIMEOUT', '10s'),
  signing: oneOf('RECONCILE_GET_SIGNING', GET_SIGNING_FORMS, 'auto'),
}

function parseBaseUrl(env: string, raw: string): string {
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    throw new Error(`${env} must be an http:// or https:// URL`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new Error(`${env} must be an http:// or https:// URL`)
  if (url.username !== '' || url.password !== '') throw new Error(`${env} must not hold credentials`)
  return url.href.replace(/\/+$/, '')
}

/** Splits `TYLT_APIKEY_CPG_FILE` into (`cpg`, file form); undefined when the name is not a service name. */
function keyVariable(key: string): { service: string; isFile: boolean } | undefined {
  const isFile = key.endsWith('_FILE')
  const envName = key.slice(APIKEY_PREFIX.length, isFile ? -'_FILE'.length : undefined)
  return /^[A-Za-z0-9]+(?:_[A-Za-z0-9]+)*$/.test(envName) ? { service: urlName(envName), isFile } : undefined
}

/** The API key itself, from the variable or, for `_FILE`, the file (first non-blank, non-`#` line). */
export function readApiKey(raw: string, isFile: boolean): KeyObject {
  const text = isFile
    ? (readFileVariable(raw.trim(), 'API key')
        .split(/\r?\n/)
        .map((line) => line.trim())
        .find((line) => line !== '' && !line.startsWith('#')) ?? '')
    : raw.trim()
  if (text === '') throw new Error('the API key is empty')
  if (/[^\x21-\x7e]/.test(text)) throw new Error('the API key holds characters a header cannot carry')
  return createSecretKey(Buffer.from(text, 'utf8'))
}

/** The key to send now: a key file is read again, and a file that cannot be read keeps the key that worked. */
export function currentApiKey(target: ReconcileTarget): string {
  if (target.file === null) return target.apiKey.export().toString('utf8')
  try {
    return readApiKey(target.file, true).export().toString('utf8')
  } catch {
    return target.apiKey.export().toString('utf8')
  }
}

/**
 * Reads every reconcile variable (docs/reconcile.md), pushing each problem onto `problems`. `services` are
 * the configured service names: an API key for a service the relay does not know is a mistake.
 */
export function loadReconcileConfig(
  env: Readonly<Record<string, string | undefined>>,
  services: readonly string[],
  problems: string[],
): ReconcileConfig {
  const values: Record<string, unknown> = {}
  for (const [name, field] of Object.entries(fields)) {
    try {
      values[name] = field.parse(env[field.env])
    } catch (err) {
      problems.push((err as Error).message)
    }
  }
  let baseUrl = DEFAULT_API_URL
  const rawBase = env[API_URL_VARIABLE]
  if (rawBase !== undefined && rawBase.trim() !== '') {
    try {
      baseUrl = parseBaseUrl(API_URL_VARIABLE, rawBase)
    } catch (err) {
      problems.push((err as Error).message)
    }
  }
  const targets = new Map<string, ReconcileTarget>()
  for (const key of Object.keys(env)
    .filter((k) => k.startsWith(APIKEY_PREFIX))
    .sort()) {
    const parsed = keyVariable(key)
    const raw = env[key] ?? ''
    if (parsed === undefined) {
      problems.push(`${key}: the service name must be letters, digits and single underscores`)
      continue
    }
    if (services.length > 0 && !services.includes(parsed.service)) {
      problems.push(`${key}: no service "${parsed.service}" is configured (TYLT_SECRET_<NAME>)`)
      continue
    }
    if (targets.has(parsed.service)) {
      problems.push(`${key}: service "${parsed.service}" already has an API key; set only one`)
      continue
    }
    const urlKey = `${API_URL_VARIABLE}_${key.slice(APIKEY_PREFIX.length).replace(/_FILE$/, '')}`
    try {
      const apiKey = readApiKey(raw, parsed.isFile)
      const own = env[urlKey]
      const url = own !== undefined && own.trim() !== '' ? parseBaseUrl(urlKey, own) : baseUrl
      targets.set(parsed.service, {
        service: parsed.service,
        env: key,
        file: parsed.isFile ? raw.trim() : null,
        apiKey,
        url,
      })
    } catch (err) {
      problems.push(`${key}: ${(err as Error).message}`)
    }
  }
  return Object.freeze({ ...values, targets: Object.freeze([...targets.values()]) }) as ReconcileConfig
}
