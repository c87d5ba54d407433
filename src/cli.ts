#!/usr/bin/env -S node --max-semi-space-size=4 --max-old-space-size=1024
// Node flags, measured in docs/benchmarks.md. A 4 MB young generation (16 by default) keeps about 25 MB off the
// resident size at full load; a 1 GB ceiling on the old one (the relay lives in about 20 MB) makes V8 size its
// heap for a sidecar instead of for the whole machine, which keeps the peak when forwarding near 110 MB
// instead of 130-150. Neither cost speed at 2,000 callbacks a second. `npm start` and the Dockerfile's CMD
// pass the same flags; test/dockerfile-steps.test.ts keeps the three in step.
import { parseArgs } from 'node:util'
import { eventsCommand } from './cli/events-command.js'
import { readInput } from './cli/read-input.js'
import { sendCommand } from './cli/send-command.js'
import { signBody, UsageError } from './cli/sign-body.js'
import { loadConfig } from './config/load-config.js'
import { readEnv } from './config/read-env.js'
import { createLogger } from './logger.js'
import { serve } from './server.js'
import { GroupCommitStore } from './store/group-commit-store.js'

const USAGE = `usage:
  tylt-relay [serve]                                run the relay
  tylt-relay sign --service NAME [FILE]             print the signature of FILE (or stdin)
  tylt-relay send URL --service NAME [FILE|-] [--sample cpg|upi]
                                                    sign and POST a body, print the answer
  tylt-relay events list [--state pending|delivered|dead] [--limit N] [--json]
  tylt-relay events show ID [--json]
  tylt-relay events replay ID... | --dead
Configuration comes from the environment and .env (see README); secrets never from arguments.`

const OPTIONS = {
  service: { type: 'string' },
  sample: { type: 'string' },
  state: { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'boolean', default: false },
  dead: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true })
  const [command = 'serve', ...rest] = positionals
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  const env = readEnv()
  switch (command) {
    case 'serve': {
      const config = loadConfig(env)
      await serve(config, createLogger(config.logLevel))
      return -1 // keeps running until a signal
    }
    case 'sign': {
      const config = loadConfig(env)
      process.stdout.write(`${signBody(config, values.service, readInput(rest[0] ?? '-'))}\n`)
      return 0
    }
    case 'send': {
      const config = loadConfig(env)
      const args = { url: rest[0], service: values.service, file: rest[1], sample: values.sample }
      return (await sendCommand(config, args, process.stdout)) ? 0 : 1
    }
    case 'events': {
      const config = loadConfig(env, { requireServices: false })
      let store: GroupCommitStore
      try {
        store = new GroupCommitStore(config.dataDir, { mustExist: true })
      } catch {
        throw new Error(`no event store in DATA_DIR (${config.dataDir}); has the relay run there?`)
      }
      try {
        const [action, ...ids] = rest
        const args = {
          action,
          ids,
          state: values.state,
          json: values.json,
          dead: values.dead,
          limit: values.limit,
        }
        process.stdout.write(`${(await eventsCommand(store, args)).join('\n')}\n`)
      } finally {
        await store.close()
      }
      return 0
    }
    default:
      throw new UsageError(`unknown command "${command}"`)
  }
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
