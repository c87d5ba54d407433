import { parseDuration } from '../config/duration.js'
import { loadConfig } from '../config/load-config.js'
import { UsageError } from '../errors.js'
import { planDownstreams } from '../forward/downstream-plan.js'
import { openExistingStore } from '../store/open-store.js'
import { type CommandInput, stringOption } from './command.js'
import { type ListArgs, listQuery } from './events-list.js'
import { EventsTail, TAIL_INTERVAL_MS, tailEvents } from './events-tail.js'

/** `events tail`: follows the store until SIGINT or SIGTERM, then closes it and exits 0. */
export async function runTail(input: CommandInput, args: ListArgs): Promise<number> {
  const text = stringOption(input, 'interval')
  const intervalMs = text === undefined ? TAIL_INTERVAL_MS : parseDuration(text)
  if (intervalMs === undefined || intervalMs <= 0)
    throw new UsageError(`--interval must be a duration such as 500ms or 2s, not "${text}"`)
  // The same checks and messages as `events list` for the filters they share.
  const since = listQuery(args, Date.now()).since
  const config = loadConfig(input.env, { requireServices: false })
  const store = await openExistingStore(config)
  const stop = new AbortController()
  const onSignal = () => stop.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    const tail = new EventsTail(store, planDownstreams(config), args)
    await tail.start(since)
    const notes = input.stderr ?? process.stderr
    // On stderr, so that `--json` output stays one object per line.
    notes.write(`following the event store, polling every ${intervalMs} ms; Ctrl-C stops\n`)
    await tailEvents(tail, args.json, input.stdout, stop.signal, intervalMs)
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await store.close()
  }
  return 0
}
