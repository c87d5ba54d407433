import type { ServiceForward } from '../forward/downstream-plan.js'
import { type ForwardTarget, parseForwardUrl } from '../forward/parse-forward-url.js'
import { parseSigningSecret } from '../forward/sinks/http/webhook-signature.js'
import { urlName } from './service-secrets.js'

export type { ServiceForward }

export const FORWARD_URL_PREFIX = 'FORWARD_URL_'
export const FORWARD_SIGNING_SECRET_PREFIX = 'FORWARD_SIGNING_SECRET_'

/** Rewrites a parser's message so it names the variable it came from (never the value). */
function renamed(err: unknown, key: string): string {
  return (err as Error).message.replaceAll(/FORWARD_URL|FORWARD_SIGNING_SECRET/g, key)
}

function envNames(env: Readonly<Record<string, string | undefined>>, prefix: string): string[] {
  return Object.keys(env)
    .filter((key) => key.startsWith(prefix) && key.length > prefix.length && (env[key] ?? '').trim() !== '')
    .map((key) => key.slice(prefix.length))
}

/**
 * Reads every per-service downstream override. NAME is spelled as in `TYLT_SECRET_<NAME>` and must be a
 * configured service; each problem goes onto `problems`.
 */
export function loadServiceForwards(
  env: Readonly<Record<string, string | undefined>>,
  services: readonly string[],
  problems: string[],
): ServiceForward[] {
  const names = new Set([
    ...envNames(env, FORWARD_URL_PREFIX),
    ...envNames(env, FORWARD_SIGNING_SECRET_PREFIX),
  ])
  const forwards: ServiceForward[] = []
  for (const name of [...names].sort()) {
    const urlKey = `${FORWARD_URL_PREFIX}${name}`
    const secretKey = `${FORWARD_SIGNING_SECRET_PREFIX}${name}`
    const service = urlName(name)
    if (!services.includes(service)) {
      const key = env[urlKey] !== undefined && env[urlKey]?.trim() !== '' ? urlKey : secretKey
      problems.push(
        `${key}: no service "${service}" is configured (set TYLT_SECRET_${name} or TYLT_SECRET_${name}_FILE, or remove ${key})`,
      )
      continue
    }
    let target: ForwardTarget | undefined
    let signingSecret: Buffer | undefined
    try {
      const raw = env[urlKey]?.trim()
      target = raw === undefined || raw === '' ? undefined : parseForwardUrl(raw)
    } catch (err) {
      problems.push(renamed(err, urlKey))
      continue
    }
    try {
      const raw = env[secretKey]?.trim()
      signingSecret = raw === undefined || raw === '' ? undefined : parseSigningSecret(raw)
    } catch (err) {
      problems.push(renamed(err, secretKey))
      continue
    }
    forwards.push({ service, target, signingSecret })
  }
  return forwards
}
