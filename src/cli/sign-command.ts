import { loadConfig } from '../config/load-config.js'
import { UsageError } from '../errors.js'
import type { Command } from './command.js'
import { stringOption } from './command.js'
import { readInput } from './read-input.js'
import { signBody } from './sign-body.js'

export const signCommand: Command = {
  name: 'sign',
  summary: "print a body's signature with a service's current secret",
  usage: `tylt-relay sign --service NAME [FILE|-]
  --service NAME  the service whose current secret signs
  FILE|-          the body, byte for byte (stdin when absent or -)
prints the hex HMAC-SHA256 that Tylt would send as X-TLP-SIGNATURE; never the secret`,
  options: { service: { type: 'string' } },
  async run(input) {
    const config = loadConfig(input.env)
    const service = stringOption(input, 'service')
    if (service === undefined) throw new UsageError('--service NAME is required')
    const [file = '-', extra] = input.positionals
    if (extra !== undefined) throw new UsageError(`sign takes one FILE, not "${extra}"`)
    const body = readInput(file, input.stderr)
    input.stdout.write(`${signBody(config, service, body)}\n`)
    return 0
  },
}
