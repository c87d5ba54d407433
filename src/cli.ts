#!/usr/bin/env -S node --max-semi-space-size=4 --max-old-space-size=1024
// Node flags, measured in docs/benchmarks.md. A 4 MB young generation (16 by default) keeps about 25 MB off the
// resident size at full load; a 1 GB ceiling on the old one (the relay lives in about 20 MB) makes V8 size its
// heap for a sidecar instead of for the whole machine, which keeps the peak when forwarding near 110 MB
// instead of 130-150. Neither cost speed at 2,000 callbacks a second. `npm start` and the Dockerfile's CMD
// pass the same flags; test/dockerfile-steps.test.ts keeps the three in step.
import { parseArgs } from 'node:util'
import { COMMANDS, findCommand } from './cli/commands.js'
import { readEnv } from './config/read-env.js'
import { UsageError } from './errors.js'

const USAGE = `usage:
${COMMANDS.map((c) => c.usage.replace(/^/gm, '  ')).join('\n')}
Configuration comes from the environment and .env (see docs/reference.md); secrets never from arguments.`

async function main(argv: readonly string[]): Promise<number> {
  const first = argv.findIndex((arg) => !arg.startsWith('-'))
  const name = first === -1 ? 'serve' : argv[first]!
  const command = findCommand(name)
  if (command === undefined) {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(`${USAGE}\n`)
      return 0
    }
    throw new UsageError(`unknown command "${name}"`)
  }
  const args = first === -1 ? [...argv] : [...argv.slice(0, first), ...argv.slice(first + 1)]
  const { values, positionals } = parseArgs({
    args,
    options: { ...command.options, help: { type: 'boolean', short: 'h', default: false } },
    allowPositionals: true,
  })
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  return command.run({ values, positionals, env: readEnv(), stdout: process.stdout })
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code
  },
  (err: Error) => {
    // One clear message, no stack trace: these are an operator's mistakes, not the program's.
    process.stderr.write(`tylt-relay: ${err.message}\n`)
    if (err instanceof UsageError) process.stderr.write(`${USAGE}\n`)
    process.exitCode =
      err instanceof UsageError || (err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
        ? 2
        : 1
  },
)
