import { UsageError } from '../errors.js'
import type { Command, Options } from './command.js'
import { storeBackupCommand } from './store-backup-command.js'
import { storeMigrateCommand } from './store-migrate-command.js'

/** The subcommands of `tylt-relay store`: adding one is a file and a row, as for commands. */
export const STORE_SUBCOMMANDS: readonly Command[] = [storeBackupCommand, storeMigrateCommand]

/** `store SUBCOMMAND ...`: operations on the store as a whole; each subcommand is a Command of its own. */
export const storeCommandRow: Command = {
  name: 'store',
  summary: STORE_SUBCOMMANDS.map((c) => `store ${c.name}: ${c.summary}`).join('; '),
  usage: STORE_SUBCOMMANDS.map((c) => c.usage).join('\n'),
  options: Object.assign({}, ...STORE_SUBCOMMANDS.map((c) => c.options)) as Options,
  async run(input) {
    const [name, ...positionals] = input.positionals
    const subcommand = STORE_SUBCOMMANDS.find((c) => c.name === name)
    if (subcommand === undefined) {
      throw new UsageError(`store needs one of: ${STORE_SUBCOMMANDS.map((c) => c.name).join(', ')}`)
    }
    return subcommand.run({ ...input, positionals })
  },
}
