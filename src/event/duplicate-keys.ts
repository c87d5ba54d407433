/**
 * The objects the metadata is read from (docs/metadata.md, "Where the fields are read"), as dotted paths
 * from the root ('' is the root itself).
 */
export const METADATA_OBJECTS: ReadonlySet<string> = new Set([
  '',
  'data',
  'data.trade',
  'data.trade.event',
  'data.transaction',
  'data.eventDetails',
  'eventDetails',
])

interface Frame {
  /** The object's dotted path when it is one of `objects`, else null (keys not tracked). */
  readonly path: string | null
  readonly keys: Set<string> | null
  readonly isObject: boolean
  expectsKey: boolean
  lastKey: string
}

const QUOTE = 0x22
const BACKSLASH = 0x5c

/** Index of the quote that closes the string opened at `open`. */
function stringEnd(text: string, open: number): number {
  let at = open + 1
  for (;;) {
    const quote = text.indexOf('"', at)
    let slashes = 0
    while (text.charCodeAt(quote - 1 - slashes) === BACKSLASH) slashes++
    if (slashes % 2 === 0) return quote
    at = quote + 1
  }
}

const childPath = (parent: Frame | undefined): string | null => {
  if (parent === undefined) return ''
  if (!parent.isObject || parent.path === null) return null
  return parent.path === '' ? parent.lastKey : `${parent.path}.${parent.lastKey}`
}

/**
 * Whether a key appears twice in one of `objects` of a JSON text. Parsers disagree on such a body (JSON.parse
 * keeps the last, others the first), so values read from it could name what a consumer does not see.
 * One linear pass that skips string contents with `indexOf`; `text` must be valid JSON (parse it first).
 */
export function hasDuplicateKey(text: string, objects: ReadonlySet<string> = METADATA_OBJECTS): boolean {
  const stack: Frame[] = []
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      const end = stringEnd(text, i)
      const top = stack[stack.length - 1]
      if (top?.isObject && top.expectsKey) {
        const raw = text.slice(i + 1, end)
        const key = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw
        if (top.keys?.has(key)) return true
        top.keys?.add(key)
        top.lastKey = key
        top.expectsKey = false
      }
      i = end
    } else if (c === 0x7b || c === 0x5b) {
      // { or [
      const path = c === 0x7b ? childPath(stack[stack.length - 1]) : null
      const tracked = path !== null && objects.has(path)
      stack.push({
        path: tracked ? path : null,
        keys: tracked ? new Set() : null,
        isObject: c === 0x7b,
        expectsKey: c === 0x7b,
        lastKey: '',
      })
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop()
    } else if (c === 0x2c) {
      const top = stack[stack.length - 1]
      if (top?.isObject) top.expectsKey = true
    }
  }
  return false
}
