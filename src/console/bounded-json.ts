/**
 * Pretty JSON (as `JSON.stringify(value, null, 2)` writes it) without recursion and within a bound: a body
 * nested thousands deep neither overflows the stack nor grows quadratically with its indentation, and a
 * large one stops at `maxChars`. A generator, so that a caller on the event loop can yield between slices.
 */

/** Nesting deeper than this is not indented further. */
const MAX_INDENT_DEPTH = 32
/** Nodes written between two checks of the caller's clock. */
export const SLICE_NODES = 64

/** How a string or a key is shown: itself, or what stands in for it. */
export interface JsonView {
  /** A value to show instead of `value` under `key` (of an object whose own key is `parent`), or undefined. */
  replace(key: string, value: unknown, parent: string): unknown
}

interface Frame {
  readonly entries: readonly (readonly [string, unknown])[]
  readonly array: boolean
  readonly key: string
  readonly depth: number
  next: number
}

const indent = (depth: number) => `\n${'  '.repeat(Math.min(depth, MAX_INDENT_DEPTH))}`

function open(value: object, key: string, depth: number): Frame {
  const array = Array.isArray(value)
  const entries = array
    ? (value as unknown[]).map((item) => ['', item] as const)
    : Object.entries(value as Record<string, unknown>)
  return { entries, array, key, depth, next: 0 }
}

/**
 * Writes `root` into `out` (joined by the caller), stopping once `maxChars` are written; returns whether it
 * was cut. Yields after every SLICE_NODES nodes.
 */
export function* writeJson(
  root: unknown,
  view: JsonView,
  out: string[],
  maxChars: number,
): Generator<void, boolean> {
  let written = 0
  const put = (text: string) => {
    out.push(text)
    written += text.length
  }
  const stack: Frame[] = []
  const start = (value: unknown, key: string, depth: number) => {
    if (value === null || typeof value !== 'object') return put(JSON.stringify(value) ?? 'null')
    const frame = open(value, key, depth)
    if (frame.entries.length === 0) return put(frame.array ? '[]' : '{}')
    put(frame.array ? '[' : '{')
    stack.push(frame)
  }
  start(view.replace('', root, ''), '', 0)
  let nodes = 0
  while (stack.length > 0) {
    if (written > maxChars) return true
    if (++nodes % SLICE_NODES === 0) yield
    const frame = stack[stack.length - 1]!
    const entry = frame.entries[frame.next]
    if (entry === undefined) {
      stack.pop()
      put(`${indent(frame.depth)}${frame.array ? ']' : '}'}`)
      continue
    }
    put(`${frame.next > 0 ? ',' : ''}${indent(frame.depth + 1)}`)
    frame.next++
    const [key, raw] = entry
    if (!frame.array) put(`${JSON.stringify(key)}: `)
    start(view.replace(key, raw, frame.key), frame.array ? frame.key : key, frame.depth + 1)
  }
  return written > maxChars
}
