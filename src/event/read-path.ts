/** A path of object keys into a parsed body. */
export type Path = readonly string[]

/**
 * The longest value kept as read (UTF-16 units). Longer values are not stored or forwarded: an id that long
 * is not one, and the store indexes these columns (a PostgreSQL index row holds at most about 2.7 kB).
 */
export const MAX_VALUE_LENGTH = 512

/** The node at `path`, or undefined when any step is missing or not an object. */
export function at(root: unknown, path: Path): unknown {
  let node = root
  for (const key of path) {
    node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined
  }
  return node
}

// NUL cannot be stored in PostgreSQL text, and an unpaired surrogate has no UTF-8 form: neither could be
// stored or typed as it came, so such a value is treated as absent rather than altered.
const UNSTORABLE = /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/**
 * A string or a finite number exactly as the body's JSON decodes it (a number in JavaScript's own digits);
 * null when empty, too long, or not storable as it is. Never trimmed or altered: a value that differs from
 * the body's could name another order.
 */
export function exact(value: unknown): string | null {
  if (typeof value !== 'string' && !(typeof value === 'number' && Number.isFinite(value))) return null
  const text = String(value)
  if (text === '' || text.length > MAX_VALUE_LENGTH || UNSTORABLE.test(text)) return null
  return text
}

/** The first path holding a string or a number, exactly as read; null when none does. */
export function pick(root: unknown, paths: readonly Path[]): string | null {
  for (const path of paths) {
    const value = exact(at(root, path))
    if (value !== null) return value
  }
  return null
}

export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
