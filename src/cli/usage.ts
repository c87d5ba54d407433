import type { Command } from './command.js'

export { version } from '../version.js'

/** `tylt-relay --help`: one line per command, and where each command's usage is. */
export function overview(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length))
  return `usage: tylt-relay COMMAND [OPTIONS]

Verifies Tylt payment callbacks, stores them durably and forwards them.

commands:
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

run "tylt-relay COMMAND --help" (or "tylt-relay help COMMAND") for a command's usage;
"tylt-relay --version" (or -v, or version) for the version.
Configuration comes from the environment and .env in the working directory; secrets never from arguments.
`
}

/** `tylt-relay COMMAND --help`: that command's usage only. */
export const commandUsage = (command: Command): string =>
  `usage: ${command.usage.replaceAll('\n', '\n       ')}\n`

/** The line under a usage error: where the full usage is. */
export const usageHint = (command: string | undefined): string =>
  command === undefined
    ? 'run "tylt-relay --help" for the commands'
    : `run "tylt-relay ${command} --help" for its usage`
