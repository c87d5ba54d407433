import { readFileSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { expect } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { parseDuration } from '../../src/config/duration.js'
import { loadConfig } from '../../src/config/load-config.js'
import { tempDir } from '../helpers/index.js'

/** docs/reference.md section 2; `TYLT_SECRET_<NAME>` and `TYLT_SECRET_<NAME>_FILE` are matched by pattern. */
export const REFERENCE_VARIABLES = new Set([
  'FORWARD_URL',
  'FORWARD_SIGNING_SECRET',
  'RETRY_MAX_AGE',
  'SHUTDOWN_GRACE',
  'DATA_DIR',
  'BODY_LIMIT',
  'DEDUP_WINDOW',
  'SIGNATURE_JSON_FALLBACK',
  'OPS_HOST',
  'OPS_PORT',
  'LOG_LEVEL',
  'TRUST_PROXY',
  'HOST',
  'PORT',
  'STORE_URL',
  'STORE_URL_FILE',
  'QUARANTINE_MAX_BYTES',
  'QUARANTINE_MAX_AGE',
  'OPS_TOKEN',
  'OPS_TOKEN_FILE',
])
const PER_SERVICE_VARIABLE = /^(?:TYLT_SECRET|FORWARD_URL|FORWARD_SIGNING_SECRET)_[A-Z0-9]+(?:_[A-Z0-9]+)*$/
export const isReferenceVariable = (name: string) =>
  REFERENCE_VARIABLES.has(name) || PER_SERVICE_VARIABLE.test(name)

/** Parses every document of a YAML file, failing on any syntax error. */
export function documents(file: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'))
  if (!Array.isArray(docs)) return []
  for (const doc of docs) expect(doc.errors, `${file}: ${doc.errors.join('; ')}`).toEqual([])
  return docs.map((doc) => doc.toJS() as unknown)
}

/**
 * The relay's own validation of an environment a manifest sets: secret files are replaced by temporary ones
 * (their content is the operator's) and a secret taken from elsewhere by a well-formed stand-in.
 */
export function expectValidConfig(env: Record<string, string>) {
  const dir = tempDir()
  const local: Record<string, string> = {}
  for (const [name, value] of Object.entries(env)) {
    if (name.endsWith('_FILE')) {
      const file = join(dir, basename(value))
      writeFileSync(file, `stand-in-secret-for-${name}\n`)
      local[name] = file
    } else local[name] = value
  }
  if (env.FORWARD_SIGNING_SECRET === '') local.FORWARD_SIGNING_SECRET = `whsec_${'A'.repeat(44)}`
  expect(() => loadConfig(local)).not.toThrow()
  return loadConfig(local)
}

/** The relay is gone by SHUTDOWN_GRACE plus 1 s (src/server.ts); the platform should allow 2 s more. */
export const relayDeadlineSeconds = (env: Record<string, string>) =>
  (parseDuration(env.SHUTDOWN_GRACE ?? '30s') ?? Number.NaN) / 1000 + 2
