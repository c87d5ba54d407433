import { readFileSync } from 'node:fs'

/** The bytes of FILE, or of stdin for `-`. Read as bytes: a signature covers bytes, not text. */
export function readInput(file: string): Buffer {
  return readFileSync(file === '-' ? 0 : file)
}
