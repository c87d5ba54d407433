import { createRequire } from 'node:module'
import pino, { type DestinationStream, type Logger } from 'pino'

/** Paths a log object must never carry in clear, whatever a future caller passes. */
const REDACT = [
  'secret',
  'secrets',
  '*.secret',
  '*.secrets',
  'signature',
  '*.signature',
  'body',
  '*.body',
  'userDetails',
  '*.userDetails',
  'req.headers["x-tlp-signature"]',
  'headers["x-tlp-signature"]',
]

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
 * JSON on stdout through an asynchronous destination: a log write never blocks the answer to Tylt. Call
 * `flush` before exiting.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const stream = destination ?? prettyWhenTerminal() ?? pino.destination({ dest: 1, sync: false })
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' } }, stream)
}
