import { downstreamForScheme, FORWARD_SCHEMES, type ForwardTarget } from './sinks/sink-table.js'

export type { ForwardTarget } from './sinks/sink-table.js'
export { redactUrl } from './sinks/target-url.js'

/** Parses and validates FORWARD_URL through the downstream table; throws an Error (never echoing a password). */
export function parseForwardUrl(raw: string): ForwardTarget {
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    // The raw text may hold a password, so it is not repeated here.
    throw new Error('FORWARD_URL is not a valid URL')
  }
  const row = downstreamForScheme(url.protocol)
  if (row === undefined) {
    throw new Error(
      `FORWARD_URL scheme "${url.protocol.slice(0, -1)}" is not supported (use ${listed(FORWARD_SCHEMES)})`,
    )
  }
  return row.parse(url)
}

function listed(names: readonly string[]): string {
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`
}
