import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseEnv } from 'node:util'

/**
 * The environment the relay configures itself from: `.env` in the working directory when present, with the
 * real environment taking precedence, as Docker and Kubernetes users expect.
 */
export function readEnv(cwd = process.cwd(), env = process.env): Record<string, string | undefined> {
  let content: string
  try {
    content = readFileSync(resolve(cwd, '.env'), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ...env }
    throw new Error(`cannot read .env (${(err as NodeJS.ErrnoException).code})`)
  }
  return { ...parseEnv(content), ...env }
}
