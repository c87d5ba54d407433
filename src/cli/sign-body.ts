import { createHmac } from 'node:crypto'
import type { Config } from '../config/load-config.js'
import { UsageError } from '../errors.js'

/** Tylt's signature of `body` with the service's current secret (the first one listed). */
export function signBody(config: Config, service: string | undefined, body: Buffer): string {
  if (service === undefined) throw new UsageError('--service NAME is required')
  const definition = config.services.find((s) => s.name === service)
  if (definition === undefined) {
    const known = config.services.map((s) => s.name).join(', ')
    throw new UsageError(`unknown service "${service}"; configured: ${known}`)
  }
  return createHmac('sha256', definition.secrets[0]!).update(body).digest('hex')
}
