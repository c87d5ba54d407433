import { createSecretKey, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { SECRET_FILE_SUFFIX, SECRET_PREFIX } from '../constants.js'

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

/** Splits a secret list: comma-separated inline, one per line in a file; blanks dropped. */
export function splitSecrets(text: string, separator: RegExp): KeyObject[] {
  return text
    .split(separator)
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => createSecretKey(Buffer.from(part, 'utf8')))
}

/** Reads a secret file; the error names the file, never its content. */
export function readSecretFile(file: string): KeyObject[] {
  let content: string
  try {
    content = readFileSync(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error'
    throw new Error(`cannot read secret file ${file} (${code})`)
  }
  const secrets = splitSecrets(content, /\r?\n/)
  if (secrets.length === 0) throw new Error(`secret file ${file} holds no secret`)
  return secrets
}

/** Collects every `TYLT_SECRET_*` variable into services, pushing each problem onto `problems`. */
export function loadServices(env: Readonly<Record<string, string | undefined>>, problems: string[]) {
  const services = new Map<string, ServiceDefinition>()
  const keys = Object.keys(env)
    .filter((key) => key.startsWith(SECRET_PREFIX))
    .sort()
  for (const key of keys) {
    const isFile = key.endsWith(SECRET_FILE_SUFFIX)
    const envName = key.slice(SECRET_PREFIX.length, isFile ? -SECRET_FILE_SUFFIX.length : undefined)
    const raw = env[key] ?? ''
    if (!NAME.test(envName)) {
      problems.push(`${key}: the service name must be letters, digits and single underscores`)
      continue
    }
    const name = urlName(envName)
    const existing = services.get(name)
    if (existing !== undefined) {
      problems.push(`${key}: service "${name}" is already configured by ${existing.env}; set only one`)
      continue
    }
    try {
      const secrets = isFile ? readSecretFile(raw.trim()) : splitSecrets(raw, /,/)
      if (secrets.length === 0) throw new Error(`${key} is empty`)
      services.set(name, { name, env: key, file: isFile ? raw.trim() : null, secrets })
    } catch (err) {
      problems.push(`${key}: ${(err as Error).message}`)
    }
  }
  return [...services.values()]
}
