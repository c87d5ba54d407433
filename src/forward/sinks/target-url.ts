/** Helpers every downstream's URL parser shares; none of them ever repeats a password. */

/** The URL with any password (and a NATS token, which sits where a user name would) replaced by `***`. */
export function redactUrl(url: string | URL): string {
  const copy = new URL(url)
  if (copy.password !== '') copy.password = '***'
  else if (copy.protocol === 'nats:' && copy.username !== '') copy.username = '***'
  return copy.href
}

/** Removes the parameters a parser consumed, so each client sees only options it understands. */
export function withoutParams(url: URL, names: readonly string[]): string {
  const copy = new URL(url)
  for (const name of names) copy.searchParams.delete(name)
  return copy.href
}

export function requiredParam(url: URL, name: string, example: string): string {
  const value = url.searchParams.get(name)
  if (value === null || value.trim() === '') {
    throw new Error(
      `FORWARD_URL ${url.protocol}// needs ?${name}=... (for example ${example}): ${redactUrl(url)}`,
    )
  }
  return value.trim()
}
