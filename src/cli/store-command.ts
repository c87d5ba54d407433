import { resolve } from 'node:path'
import { loadConfig } from '../config/load-config.js'
import { UsageError } from '../errors.js'
import { backupStore } from '../store/backup-store.js'
import type { Command } from './command.js'

const megabytes = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`

/** `store backup FILE`: a consistent copy of the embedded store, safe while the relay runs. */
export const storeCommand: Command = {
  name: 'store',
  summary: 'back up the event store while the relay runs',
  usage: 'tylt-relay store backup FILE',
  options: {},
  async run(input) {
    const [action, file, ...rest] = input.positionals
    if (action !== 'backup') throw new UsageError('store needs backup FILE')
    if (file === undefined || rest.length > 0) throw new UsageError('store backup needs one FILE to write')
    if ((input.env.STORE_URL ?? '') !== '') {
      throw new UsageError('store backup copies the embedded SQLite store; back up PostgreSQL with pg_dump')
    }
    const config = loadConfig(input.env, { requireServices: false })
    const started = Date.now()
    const summary = backupStore(config.dataDir, resolve(file))
    input.stdout.write(
      `backed up ${summary.events} events (${summary.pending} pending, ${summary.dead} dead) from ` +
        `${summary.source} to ${summary.target} (${megabytes(summary.bytes)}, integrity ok) ` +
        `in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    )
    return 0
  },
}
