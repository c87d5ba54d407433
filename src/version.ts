import { readFileSync } from 'node:fs'

let read: string | undefined

/** The version of the installed package: package.json sits one folder above `dist/` (and `src/`). */
export function version(): string {
  read ??= (
    JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version
  return read
}
