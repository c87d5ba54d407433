import { fstatSync, readFileSync } from 'node:fs'

/** The bytes of FILE, or of stdin for `-`. Read as bytes: a signature covers bytes, not text. */
export function readInput(file: string): Buffer {
  return readFileSync(file === '-' ? 0 : file)
}

/** True when something is piped or redirected into stdin (not a terminal, not /dev/null). */
export function stdinHasData(): boolean {
  try {
    const stat = fstatSync(0)
    return stat.isFIFO() || stat.isFile()
  } catch {
    return false
  }
}
