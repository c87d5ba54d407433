#!/usr/bin/env -S node --max-semi-space-size=4 --max-old-space-size=1024
// Node flags, measured in docs/benchmarks.md. A 4 MB young generation (16 by default) keeps about 25 MB off the
// resident size at full load; a 1 GB ceiling on the old one (the relay lives in about 20 MB) makes V8 size its
// heap for a sidecar instead of for the whole machine, which keeps the peak when forwarding near 110 MB
// instead of 130-150. Neither cost speed at 2,000 callbacks a second. `npm start` and the Dockerfile's CMD
// pass the same flags; test/dockerfile-steps.test.ts keeps the three in step.
import { COMMANDS } from './cli/commands.js'
import { parseCommandLine } from './cli/parse-command-line.js'
import { commandUsage, overview, usageHint, version } from './cli/usage.js'
import { readEnv } from './config/read-env.js'
import { UsageError } from './errors.js'

/** The command being run, for the hint under a usage error it throws. */
let running: string | undefined

async function main(argv: readonly string[]): Promise<number> {
  const line = parseCommandLine(argv, COMMANDS)
  if (line.kind === 'version') process.stdout.write(`tylt-relay ${version()}\n`)
  if (line.kind === 'overview') process.stdout.write(overview(COMMANDS))
  if (line.kind === 'usage') process.stdout.write(commandUsage(line.command))
  if (line.kind !== 'run') return 0
  running = line.command.name
  const { values, positionals } = line
  return line.command.run({
    values,
    positionals,
    env: readEnv(),
    stdout: process.stdout,
    stderr: process.stderr,
  })
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code
  },
  (err: Error) => {
    // One clear message, no stack trace: these are an operator's mistakes, not the program's. A usage
    // mistake gets one line and where to read the usage, not the whole of it.
    process.stderr.write(`tylt-relay: ${err.message}\n`)
    if (err instanceof UsageError) process.stderr.write(`${usageHint(err.command ?? running)}\n`)
    process.exitCode = err instanceof UsageError ? 2 : 1
  },
)
