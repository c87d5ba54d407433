import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseEnv } from 'node:util'
import { serviceOfKey } from './service-secrets.js'

/**
 * The environment the relay configures itself from: `.env` in the working directory when present, with the
 * real environment taking precedence, as Docker and Kubernetes users expect. Precedence is per service, not
 * per variable: a service the real environment configures (by `TYLT_SECRET_X` or `TYLT_SECRET_X_FILE`)
 * takes nothing from `.env`, so a secret file mounted in production replaces the inline demo line of a
 * copied `.env` instead of clashing with it.
 */
export function readEnv(cwd = process.cwd(), env = process.env): Record<string, string | undefined> {
  let content: string
  try {
    content = readFileSync(resolve(cwd, '.env'), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ...env }
    throw new Error(`cannot read .env (${(err as NodeJS.ErrnoException).code})`)
  }
  const fromFile = parseEnv(content)
  const configured = new Set(Object.keys(env).map(serviceOfKey))
  for (const key of Object.keys(fromFile)) {
    const service = serviceOfKey(key)
    if (service !== undefined && configured.has(service)) delete fromFile[key]
  }
  return { ...fromFile, ...env }
}
