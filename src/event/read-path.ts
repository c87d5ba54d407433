/** A path of object keys into a parsed body. */
export type Path = readonly string[]

const MAX_LENGTH = 128

/** The node at `path`, or undefined when any step is missing or not an object. */
export function at(root: unknown, path: Path): unknown {
  let node = root
  for (const key of path) {
    node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined
  }
  return node
}

/** Values travel as HTTP, AMQP and NATS headers: printable ASCII only, bounded in length. */
export function clean(value: unknown): string | null {
  if (typeof value !== 'string' && !(typeof value === 'number' && Number.isFinite(value))) return null
  const text = String(value)
    .replace(/[^\x20-\x7e]/g, '')
    .trim()
    .slice(0, MAX_LENGTH)
  return text === '' ? null : text
}

/** The first path holding a string or a number, cleaned; null when none does. */
export function pick(root: unknown, paths: readonly Path[]): string | null {
  for (const path of paths) {
    const value = clean(at(root, path))
    if (value !== null) return value
  }
  return null
}

export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
