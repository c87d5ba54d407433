import { loadConfig } from '../config/load-config.js'
import type { QuarantinedRequest } from '../core/quarantine-store.js'
import { UsageError } from '../errors.js'
import { candidatesFor } from '../quarantine/retry-quarantined.js'
import { type ServiceKeys, verifySignature } from '../verify/verify-signature.js'
import { type Command, stringOption } from './command.js'
import { openQuarantine, using } from './open-stores.js'
import type { CommandResult } from './quarantine-command.js'
import { readInput } from './read-input.js'
import { refusalText, slotText } from './refusal-text.js'
import { terminalText } from './terminal-text.js'

export interface VerifyInput {
  readonly body: Buffer
  readonly signature: string | undefined
  readonly candidates: readonly ServiceKeys[]
  readonly jsonFallback: boolean
  /** The service a quarantined request named that is not configured now; verifying it then says so. */
  readonly unknownService?: string | undefined
}

/**
 * What `tylt-relay verify` prints: whether the signature verifies with the secrets configured now, for which
 * service, which secret (by its place in the list, never its value) and over which bytes.
 */
export function verifyLines({
  body,
  signature,
  candidates,
  jsonFallback,
  unknownService,
}: VerifyInput): CommandResult {
  if (unknownService !== undefined) {
    return { lines: [`not verified: ${refusalText('unknown_service', [unknownService])}`], code: 1 }
  }
  const result = verifySignature(candidates, body, signature, jsonFallback)
  if (result.ok) {
    if (result.bytes === body) {
      return { lines: [`verified: service ${result.service}, ${slotText(result.slot)}, raw bytes`], code: 0 }
    }
    return {
      lines: [
        `verified: service ${result.service}, ${slotText(result.slot)}, JSON fallback`,
        `only the re-serialised body matches (${result.bytes.length} bytes of JSON.stringify, not the ${body.length} bytes given): the relay stores and forwards the re-serialised bytes`,
      ],
      code: 0,
    }
  }
  const lines = [
    `not verified: ${refusalText(
      result.reason,
      candidates.map((s) => s.name),
    )}`,
  ]
  if (
    !jsonFallback &&
    result.reason === 'mismatch' &&
    verifySignature(candidates, body, signature, true).ok
  ) {
    lines.push(
      'it would verify over the re-serialised body (JSON fallback), which SIGNATURE_JSON_FALLBACK=false turns off',
    )
  }
  return { lines, code: 1 }
}

function only(services: readonly ServiceKeys[], name: string | undefined): readonly ServiceKeys[] {
  if (name === undefined) return services
  const service = services.find((s) => s.name === name)
  if (service === undefined) {
    throw new UsageError(`unknown service "${name}"; configured: ${services.map((s) => s.name).join(', ')}`)
  }
  return [service]
}

async function quarantined(config: ReturnType<typeof loadConfig>, id: string): Promise<QuarantinedRequest> {
  const request = await using(await openQuarantine(config), (quarantine) => quarantine.get(id))
  if (request === undefined) throw new Error(`${id}: not in quarantine (already retried or dropped)`)
  return request
}

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'say whether a captured body and signature verify with the configured secrets',
  usage: `tylt-relay verify --signature HEX [--service NAME] [FILE|-]
tylt-relay verify --quarantined ID [--service NAME]`,
  options: { signature: { type: 'string' }, quarantined: { type: 'string' }, service: { type: 'string' } },
  async run(input) {
    const config = loadConfig(input.env)
    const id = stringOption(input, 'quarantined')
    const signature = stringOption(input, 'signature')
    const service = stringOption(input, 'service')
    if ((id === undefined) === (signature === undefined)) {
      throw new UsageError('verify needs --signature HEX (with a FILE or -) or --quarantined ID')
    }
    let verify: VerifyInput
    if (id === undefined) {
      const body = readInput(input.positionals[0] ?? '-')
      verify = {
        body,
        signature,
        candidates: only(config.services, service),
        jsonFallback: config.signatureJsonFallback,
      }
    } else {
      // As `quarantine retry` would verify it: against the service its path named, unless told another.
      const request = await quarantined(config, id)
      const candidates =
        service === undefined ? candidatesFor(request, config.services) : only(config.services, service)
      verify = {
        body: request.body,
        signature: request.signature ?? undefined,
        candidates,
        jsonFallback: config.signatureJsonFallback,
        unknownService: candidates.length === 0 ? (request.service ?? undefined) : undefined,
      }
    }
    const result = verifyLines(verify)
    input.stdout.write(`${terminalText(result.lines.join('\n'))}\n`)
    return result.code
  },
}
