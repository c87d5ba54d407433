import { loadConfig } from '../config/load-config.js'
import { startWarnings } from '../config/start-warnings.js'
import { createLogger } from '../logger.js'
import { serve } from '../server.js'
import type { Command } from './command.js'

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the relay (the default command)',
  usage: `tylt-relay [serve]
runs until SIGTERM or SIGINT, then drains within SHUTDOWN_GRACE and exits 0; configured by the
environment and .env in the working directory (TYLT_SECRET_<NAME>, PORT, DATA_DIR, FORWARD_URL, ...)`,
  options: {},
  async run({ env }) {
    const config = loadConfig(env)
    const logger = createLogger(config.logLevel)
    for (const warning of startWarnings(env, config)) logger.warn(warning)
    await serve(config, logger)
    return -1
  },
}
