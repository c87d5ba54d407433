import { loadConfig } from '../config/load-config.js'
import type { Command } from './command.js'
import { stringOption } from './command.js'
import { readInput } from './read-input.js'
import { signBody } from './sign-body.js'

export const signCommand: Command = {
  name: 'sign',
  summary: "print a body's signature with a service's current secret",
  usage: 'tylt-relay sign --service NAME [FILE|-]',
  options: { service: { type: 'string' } },
  async run(input) {
    const config = loadConfig(input.env)
    const body = readInput(input.positionals[0] ?? '-')
    input.stdout.write(`${signBody(config, stringOption(input, 'service'), body)}\n`)
    return 0
  },
}
