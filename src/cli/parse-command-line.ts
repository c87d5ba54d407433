import { parseArgs } from 'node:util'
import { closest } from '../config/edit-distance.js'
import { UsageError } from '../errors.js'
import type { Command, CommandInput } from './command.js'

export type CommandLine =
  | { readonly kind: 'version' }
  | { readonly kind: 'overview' }
  | { readonly kind: 'usage'; readonly command: Command }
  | {
      readonly kind: 'run'
      readonly command: Command
      readonly values: CommandInput['values']
      readonly positionals: readonly string[]
    }

/** node:util's parse errors, in the words of this command line (its own are long and name `--` tricks). */
function reword(err: Error & { code?: string }): string {
  const option = /'(-[^' ]+)/.exec(err.message)?.[1]
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) return `unknown option ${option}`
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option)
    return err.message.includes('argument missing') ? `${option} needs a value` : `${option} takes no value`
  return err.message
}

const VERSION_FLAGS = ['--version', '-V', '-v']

/** `unknown command "evnets"; did you mean "events"?`, when one command is a couple of edits away. */
function unknownCommand(name: string, commands: readonly Command[]): UsageError {
  const names = [...commands.map((c) => c.name), 'help', 'version']
  const meant = closest(name, names, name.length < 5 ? 1 : 2)
  return new UsageError(`unknown command "${name}"${meant === undefined ? '' : `; did you mean "${meant}"?`}`)
}

/**
 * Reads `tylt-relay [COMMAND] [OPTIONS] [ARGS]`: the first word that is not an option names the command
 * (`serve` when there is none). `--version` and `--help` win over everything else; `help [COMMAND]` and
 * `version` are commands' words for them.
 */
export function parseCommandLine(argv: readonly string[], commands: readonly Command[]): CommandLine {
  const first = argv.findIndex((arg) => !arg.startsWith('-'))
  const help = argv.includes('--help') || argv.includes('-h')
  if (first === -1 && help) return { kind: 'overview' }
  if (first === -1 && argv.some((arg) => VERSION_FLAGS.includes(arg))) return { kind: 'version' }
  const name = first === -1 ? 'serve' : argv[first]!
  if (name === 'version') return { kind: 'version' }
  if (name === 'help') {
    const topic = argv.slice(first + 1).find((arg) => !arg.startsWith('-'))
    if (topic === undefined) return { kind: 'overview' }
    const about = commands.find((c) => c.name === topic)
    if (about === undefined) throw unknownCommand(topic, commands)
    return { kind: 'usage', command: about }
  }
  const command = commands.find((c) => c.name === name)
  if (command === undefined) throw unknownCommand(name, commands)
  if (help) return { kind: 'usage', command }
  const args = first === -1 ? [...argv] : [...argv.slice(0, first), ...argv.slice(first + 1)]
  try {
    const { values, positionals } = parseArgs({ args, options: command.options, allowPositionals: true })
    // No option is declared `multiple`, so every value is a string or a boolean.
    return { kind: 'run', command, values: values as CommandInput['values'], positionals }
  } catch (err) {
    throw new UsageError(reword(err as Error), command.name)
  }
}
