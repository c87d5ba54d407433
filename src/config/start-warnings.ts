import type { Config } from './load-config.js'
import { KNOWN_VARIABLES } from './load-config.js'
import { publicDemo } from './service-secrets.js'
import { unknownVariables } from './unknown-variables.js'

/**
 * What a starting relay warns about, once each: variables that look like the relay's but are not (a typo
 * forwards nowhere without a word), and the public demo secret, which anyone can sign callbacks with.
 */
export function startWarnings(env: Readonly<Record<string, string | undefined>>, config: Config): string[] {
  const warnings = unknownVariables(env, KNOWN_VARIABLES)
  const demo = publicDemo(config.services)
  if (demo !== undefined) {
    warnings.push(
      `${demo.env} holds the public demo secret of .env.example: anyone can sign callbacks that /webhooks/${demo.name} accepts; for trying the relay only (refused beside other services and with NODE_ENV=production)`,
    )
  }
  return warnings
}
