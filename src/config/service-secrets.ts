import { createSecretKey, type KeyObject } from 'node:crypto'
import {
  DEMO_SECRET,
  DEMO_SERVICE,
  MAX_SERVICE_NAME,
  MIN_SECRET_BYTES,
  SECRET_FILE_SUFFIX,
  SECRET_PREFIX,
} from '../constants.js'
import { readFileVariable } from './file-variable.js'

/**
 * A Tylt service the relay receives callbacks for. Secrets are KeyObjects: they print as
 * `SecretKeyObject { ... }`, so a stray log of a config object cannot leak one.
 */
export interface ServiceDefinition {
  /** Name in the URL: `TYLT_SECRET_PRIME_UPI` serves `/webhooks/prime-upi`. */
  readonly name: string
  /** The environment variable it came from, for messages. */
  readonly env: string
  /** The secret file, re-read on SIGHUP and when it changes; null for an inline secret. */
  readonly file: string | null
  /** The accepted secrets, current first (the order they are listed in). */
  readonly secrets: readonly KeyObject[]
}

const NAME = /^[A-Za-z0-9]+(?:_[A-Za-z0-9]+)*$/

export const urlName = (envName: string): string => envName.toLowerCase().replaceAll('_', '-')

/** The service a `TYLT_SECRET_*` variable configures (`TYLT_SECRET_CPG_FILE` -> `cpg`), or undefined. */
export function serviceOfKey(key: string): string | undefined {
  if (!key.startsWith(SECRET_PREFIX)) return undefined
  const isFile = key.endsWith(SECRET_FILE_SUFFIX)
  const envName = key.slice(SECRET_PREFIX.length, isFile ? -SECRET_FILE_SUFFIX.length : undefined)
  return NAME.test(envName) ? urlName(envName) : undefined
}

/**
 * Splits a secret list into keys: comma-separated inline, one per line in a file (where blank lines and
 * lines starting with `#` are comments). Throws when a secret is too short or is the public demo secret
 * outside the demo service; the message gives the secret's position, never the secret.
 */
export function splitSecrets(text: string, form: 'inline' | 'file', service?: string): KeyObject[] {
  const parts = text
    .split(form === 'inline' ? ',' : /\r?\n/)
    .map((part) => part.trim())
    .filter((part) => part !== '' && !(form === 'file' && part.startsWith('#')))
  return parts.map((part, index) => {
    const which = parts.length === 1 ? 'the secret' : `secret ${index + 1} of ${parts.length}`
    if (Buffer.byteLength(part, 'utf8') < MIN_SECRET_BYTES)
      throw new Error(
        `${which} is shorter than ${MIN_SECRET_BYTES} bytes; use the secret key from the Tylt dashboard`,
      )
    if (part === DEMO_SECRET && service !== undefined && service !== DEMO_SERVICE)
      throw new Error(
        `${which} is the public demo secret of .env.example; use the secret key from the Tylt dashboard`,
      )
    return createSecretKey(Buffer.from(part, 'utf8'))
  })
}

/** Reads a secret file; errors name neither the file nor its content (readFileVariable). */
export function readSecretFile(file: string, service?: string): KeyObject[] {
  const secrets = splitSecrets(readFileVariable(file, 'secret'), 'file', service)
  if (secrets.length === 0) throw new Error('the secret file holds no secret')
  return secrets
}

const isDemo = (key: KeyObject) => key.export().toString('utf8') === DEMO_SECRET

/** The demo service of `.env.example` when it is configured with its public secret. */
export const publicDemo = (services: readonly ServiceDefinition[]): ServiceDefinition | undefined =>
  services.find((s) => s.name === DEMO_SERVICE && s.secrets.some(isDemo))

/** Collects every `TYLT_SECRET_*` variable into services, pushing each problem onto `problems`. */
export function loadServices(env: Readonly<Record<string, string | undefined>>, problems: string[]) {
  const services = new Map<string, ServiceDefinition>()
  const keys = Object.keys(env)
    .filter((key) => key.startsWith(SECRET_PREFIX))
    .sort()
  for (const key of keys) {
    const isFile = key.endsWith(SECRET_FILE_SUFFIX)
    const raw = env[key] ?? ''
    const name = serviceOfKey(key)
    if (name === undefined) {
      problems.push(`${key}: the service name must be letters, digits and single underscores`)
      continue
    }
    if (name.length > MAX_SERVICE_NAME) {
      problems.push(`${key}: the service name is longer than ${MAX_SERVICE_NAME} characters`)
      continue
    }
    const existing = services.get(name)
    if (existing !== undefined) {
      problems.push(`${key}: service "${name}" is already configured by ${existing.env}; set only one`)
      continue
    }
    try {
      const secrets = isFile ? readSecretFile(raw.trim(), name) : splitSecrets(raw, 'inline', name)
      if (secrets.length === 0) throw new Error(`${key} is empty`)
      services.set(name, { name, env: key, file: isFile ? raw.trim() : null, secrets })
    } catch (err) {
      problems.push(`${key}: ${(err as Error).message}`)
    }
  }
  const list = [...services.values()]
  problems.push(...keyProblems(list))
  return list
}

/**
 * The checks across services, at start and on every reload of a secret file: a secret two services share,
 * and the public demo secret beside other services. Each message names a variable, never a secret.
 */
export function keyProblems(services: readonly ServiceDefinition[]): string[] {
  return [...sharedSecrets(services), ...demoBesideOthers(services)]
}

/**
 * Two services with one secret are refused: a callback signed for one would verify on the other's URL, and
 * `POST /webhooks` could not tell which service it came from.
 */
function sharedSecrets(services: readonly Pick<ServiceDefinition, 'env' | 'secrets'>[]): string[] {
  const problems: string[] = []
  for (let i = 0; i < services.length; i++) {
    for (const other of services.slice(i + 1)) {
      const a = services[i]!
      if (a.secrets.some((key) => other.secrets.some((k) => k.equals(key))))
        problems.push(
          `${other.env}: holds a secret that ${a.env} holds too; each Tylt service has its own secret key`,
        )
    }
  }
  return problems
}

function demoBesideOthers(services: readonly ServiceDefinition[]): string[] {
  const demo = publicDemo(services)
  if (demo === undefined || services.length === 1) return []
  const others = services.filter((s) => s !== demo).map((s) => s.name)
  return [
    `${demo.env}: holds the public demo secret of .env.example while other services are configured (${others.join(', ')}); remove it or use the secret key from the Tylt dashboard`,
  ]
}
