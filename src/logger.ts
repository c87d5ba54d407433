import { createRequire } from 'node:module'
import pino, { type DestinationStream, type Logger } from 'pino'

/** Paths a log object must never carry in clear, whatever a future caller passes. */
const TOP_LEVEL_REDACT = [
  'secret',
  'secrets',
  'signature',
  'body',
  'userDetails',
  'req.headers["x-tlp-signature"]',
  'headers["x-tlp-signature"]',
]
const REDACT = [...TOP_LEVEL_REDACT, '*.secret', '*.secrets', '*.signature', '*.body', '*.userDetails']
const CENSOR = '[redacted]'

/**
 * For log lines whose top-level values are all strings, numbers or null, such as the one line per webhook:
 * the `*.x` paths can match nothing there, yet pino's redaction deep-copies every object when any path
 * starts with a wildcard (about 10 µs a line, a tenth of a bare webhook's cost). Every other path still
 * applies, so a field added to that line later is still covered.
 */
export const FLAT_LINE_REDACT = { paths: TOP_LEVEL_REDACT, censor: CENSOR }

function prettyWhenTerminal(): DestinationStream | undefined {
  if (!process.stdout.isTTY) return undefined
  try {
    // pino-pretty is a development dependency: absent from the production image, which logs JSON.
    createRequire(import.meta.url).resolve('pino-pretty')
    return pino.transport({ target: 'pino-pretty', options: { destination: 1 } }) as DestinationStream
  } catch {
    return undefined
  }
}

/**
 * JSON on stdout through an asynchronous destination: a log write never blocks the answer to Tylt. Lines
 * are gathered up to 4 KiB, or for at most 100 ms, and written together: one write per line costs a trip to
 * the libuv thread pool each, more than the line itself under load (https://getpino.io/#/docs/asynchronous).
 * Call `flush` before exiting.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const stream =
    destination ??
    prettyWhenTerminal() ??
    pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 100 })
  return pino({ level, redact: { paths: REDACT, censor: CENSOR } }, stream)
}
