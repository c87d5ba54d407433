import { readFileVariable } from './file-variable.js'

/**
 * Where the events live when not in DATA_DIR: a PostgreSQL connection URL. It holds a password, so it is
 * kept in a private field: a log line or a JSON dump of the configuration shows only `redacted`.
 */
export class StoreUrl {
  readonly kind = 'postgres'
  /** Host, port and database, for logs and messages. */
  readonly redacted: string
  readonly #url: string

  constructor(url: string) {
    this.#url = url
    const parsed = new URL(url)
    this.redacted = `postgres://${parsed.host}${parsed.pathname}`
  }

  /** The full URL, for the database client only. */
  connectionString(): string {
    return this.#url
  }

  toJSON(): string {
    return this.redacted
  }
}

const SCHEMES = ['postgres:', 'postgresql:']

/** Parses a STORE_URL; the message never quotes it (it may hold a password). */
export function parseStoreUrl(raw: string, env = 'STORE_URL'): StoreUrl {
  let parsed: URL
  try {
    parsed = new URL(raw)
  } catch {
    throw new Error(`${env} is not a URL (expected postgres://user:password@host:5432/database)`)
  }
  if (!SCHEMES.includes(parsed.protocol)) {
    throw new Error(
      `${env} must start with postgres:// or postgresql:// (unset it for the store in DATA_DIR)`,
    )
  }
  if (parsed.hostname === '' && !parsed.searchParams.has('host')) throw new Error(`${env} names no host`)
  return new StoreUrl(raw)
}

/**
 * STORE_URL, or STORE_URL_FILE naming a file that holds it (a mounted Secret); unset: the embedded store.
 * Problems go onto `problems`, as every other setting's do.
 */
export function loadStoreUrl(env: Readonly<Record<string, string | undefined>>, problems: string[]) {
  const inline = env.STORE_URL?.trim() || undefined
  const file = env.STORE_URL_FILE?.trim() || undefined
  if (inline !== undefined && file !== undefined) {
    problems.push('STORE_URL and STORE_URL_FILE are both set; set only one')
    return undefined
  }
  try {
    if (inline !== undefined) return parseStoreUrl(inline)
    if (file === undefined) return undefined
    let content: string
    try {
      content = readFileVariable(file, 'URL').trim()
    } catch (err) {
      throw new Error(`STORE_URL_FILE: ${(err as Error).message}`)
    }
    return parseStoreUrl(content, 'the URL in STORE_URL_FILE')
  } catch (err) {
    problems.push((err as Error).message)
    return undefined
  }
}
