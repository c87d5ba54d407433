import { loadConfig } from '../config/load-config.js'
import { parseStoreUrl } from '../config/store-url.js'
import { DataDirInUseForMigrationError, UsageError } from '../errors.js'
import { GroupCommitStore } from '../store/group-commit-store.js'
import { lockDataDir } from '../store/lock-data-dir.js'
import { type Command, stringOption } from './command.js'

/**
 * `store migrate`: moves the embedded store of DATA_DIR into PostgreSQL, every event with its seq, state and
 * attempts. The target comes from `--to` or, to keep its password out of the process list, from STORE_URL or
 * STORE_URL_FILE. It takes DATA_DIR's lock, so it refuses while a relay runs there: a running relay would go on
 * delivering and updating events the copy has already read. The SQLite file is left as it was.
 */
export const storeMigrateCommand: Command = {
  name: 'migrate',
  summary: 'copy the store in DATA_DIR into an empty PostgreSQL store',
  usage:
    'tylt-relay store migrate [--to postgres://USER:PASSWORD@HOST:5432/DATABASE]  (or STORE_URL, STORE_URL_FILE)',
  options: { to: { type: 'string' } },
  async run(input) {
    const config = loadConfig(input.env, { requireServices: false })
    const to = stringOption(input, 'to')
    const target = to === undefined ? config.storeUrl : parseStoreUrl(to, '--to')
    if (target === undefined) throw new UsageError('store migrate needs --to postgres://... or STORE_URL')
    let source: GroupCommitStore
    try {
      source = new GroupCommitStore(config.dataDir, { mustExist: true })
    } catch {
      throw new Error(`no event store in DATA_DIR (${config.dataDir}) to migrate`)
    }
    let release: () => void
    try {
      release = lockDataDir(config.dataDir, DataDirInUseForMigrationError)
    } catch (err) {
      await source.close()
      throw err
    }
    try {
      const { copyIntoPostgres } = await import('../store/postgres/copy-into-postgres.js')
      const report = await copyIntoPostgres(source, target)
      input.stdout.write(
        `copied ${report.events} event(s) (${report.pending} pending, ${report.dead} dead) and ` +
          `${report.attempts} attempt(s) from ${config.dataDir} to ${target.redacted}\n` +
          `start the relay with STORE_URL set to that database; ${config.dataDir} was left as it was\n`,
      )
    } finally {
      release()
      await source.close()
    }
    return 0
  },
}
