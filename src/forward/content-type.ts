import { CONTENT_TYPE_BYTES, CONTENT_TYPE_JSON } from './headers.js'

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d])

/**
 * A cheap guess, not a parse: a verified body that is not JSON is still forwarded (docs/reference.md, section 1),
 * and parsing every body again only to choose a media type is not worth it.
 */
export function contentTypeOf(body: Buffer): string {
  for (const byte of body) {
    if (WHITESPACE.has(byte)) continue
    return byte === 0x7b || byte === 0x5b ? CONTENT_TYPE_JSON : CONTENT_TYPE_BYTES
  }
  return CONTENT_TYPE_BYTES
}
