import { readFileSync } from 'node:fs'

/**
 * Reads the file a `*_FILE` variable names (TYLT_SECRET_<NAME>_FILE, OPS_TOKEN_FILE, STORE_URL_FILE). The
 * error names neither the path nor the content: the variable may hold the value itself (a secret, a token, a
 * URL with its password) pasted where the path belongs. `holds` says what the file should hold.
 */
export function readFileVariable(path: string, holds: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error'
    throw new Error(`cannot read the ${holds} file it names (${code}); it must hold a path, not a ${holds}`)
  }
}
