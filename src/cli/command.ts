import type { ParseArgsConfig } from 'node:util'

export type Options = NonNullable<ParseArgsConfig['options']>

/** What a command is given: its parsed options and positionals (the command's name removed). */
export interface CommandInput {
  readonly values: Readonly<Record<string, string | boolean | undefined>>
  readonly positionals: readonly string[]
  readonly env: Readonly<Record<string, string | undefined>>
  readonly stdout: NodeJS.WritableStream
  /** Where notes to the user go (never the command's output); process.stderr when absent. */
  readonly stderr?: NodeJS.WritableStream
}

/**
 * One row of the command table (commands.ts): adding a command is a file and a row. `run` resolves to the
 * exit code, or to -1 for a command that keeps running until a signal (`serve`).
 */
export interface Command {
  readonly name: string
  /** One line for the overview of `tylt-relay --help`. */
  readonly summary: string
  /** What `tylt-relay NAME --help` prints: the usage lines, then a line per option. */
  readonly usage: string
  readonly options: Options
  run(input: CommandInput): Promise<number>
}

/** Reads a string option; the parser guarantees the type, this only narrows it. */
export const stringOption = (input: CommandInput, name: string): string | undefined => {
  const value = input.values[name]
  return typeof value === 'string' ? value : undefined
}
