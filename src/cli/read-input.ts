import { readFileSync } from 'node:fs'
import { isatty } from 'node:tty'

/** What a terminal user sees while a command waits for a body typed or pasted on stdin. */
const WAITING_FOR_STDIN =
  'tylt-relay: reading the body from stdin; end it with Ctrl-D (or give a FILE instead of -)\n'

/**
 * The bytes of FILE, or of stdin for `-`. Read as bytes: a signature covers bytes, not text. On a terminal,
 * a note on stderr says the command is waiting, where it would otherwise look hung.
 */
export function readInput(file: string, stderr: NodeJS.WritableStream = process.stderr): Buffer {
  // isatty, not process.stdin.isTTY: opening process.stdin makes a terminal non-blocking (EAGAIN below).
  if (file === '-' && isatty(0)) stderr.write(WAITING_FOR_STDIN)
  return readFileSync(file === '-' ? 0 : file)
}
