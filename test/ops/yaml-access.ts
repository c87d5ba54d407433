/**
 * Typed reads of parsed YAML: each accessor fails the test with the path it could not follow, rather than
 * letting an `undefined` slip through as if the manifest had said it.
 */
export function obj(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`expected a mapping, got ${JSON.stringify(value)}`)
  }
  return value as Record<string, unknown>
}

export function arr(value: unknown): unknown[] {
  if (!Array.isArray(value)) throw new Error(`expected a list, got ${JSON.stringify(value)}`)
  return value
}

/** A list that may be absent. */
export const list = (value: unknown): unknown[] => (value === undefined ? [] : arr(value))

export function str(value: unknown): string {
  if (typeof value !== 'string') throw new Error(`expected a string, got ${JSON.stringify(value)}`)
  return value
}

export function num(value: unknown): number {
  if (typeof value !== 'number') throw new Error(`expected a number, got ${JSON.stringify(value)}`)
  return value
}

/** `field(x, 'a', 'b')` is x.a.b, each step required to be a mapping. */
export function field(value: unknown, ...path: string[]): unknown {
  let current = value
  for (const key of path) {
    try {
      current = obj(current)[key]
    } catch (err) {
      throw new Error(`cannot read .${path.join('.')} at "${key}": ${(err as Error).message}`)
    }
  }
  return current
}
