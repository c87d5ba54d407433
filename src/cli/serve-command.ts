import { loadConfig } from '../config/load-config.js'
import { createLogger } from '../logger.js'
import { serve } from '../server.js'
import type { Command } from './command.js'

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the relay (the default command)',
  usage: 'tylt-relay [serve]',
  options: {},
  async run({ env }) {
    const config = loadConfig(env)
    await serve(config, createLogger(config.logLevel))
    return -1
  },
}
