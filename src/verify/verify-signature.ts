import { createHmac, type KeyObject, timingSafeEqual } from 'node:crypto'
import { FALLBACK_MAX_BYTES } from '../constants.js'

/** The keys to try for one service, current first. */
export interface ServiceKeys {
  readonly name: string
  readonly secrets: readonly KeyObject[]
}

export type FailureReason = 'missing' | 'malformed' | 'mismatch'

export type Verification =
  | {
      readonly ok: true
      readonly service: string
      /** Index of the matching secret: 0 is the current one, higher ones are older ones still accepted. */
      readonly slot: number
      /** The bytes the signature matched: the raw body, or its `JSON.stringify` form in the fallback. */
      readonly bytes: Buffer
      /** The parsed body when the fallback had to parse it, so nobody parses it twice. */
      readonly parsed?: unknown
    }
  | { readonly ok: false; readonly reason: FailureReason }

const HEX_SIGNATURE = /^[0-9a-fA-F]{64}$/

/** Decodes `X-TLP-SIGNATURE`: 64 hex digits in either case, surrounding spaces ignored. */
export function decodeSignature(header: string | undefined): Buffer | FailureReason {
  if (header === undefined) return 'missing'
  const value = header.trim()
  if (value === '') return 'missing'
  return HEX_SIGNATURE.test(value) ? Buffer.from(value, 'hex') : 'malformed'
}

/**
 * Compares two digests in constant time. A comparison that stops at the first differing byte (`===`,
 * `Buffer.equals`) answers faster the fewer leading bytes of a forged signature are right, so an attacker
 * who can time many requests learns the right signature byte by byte; `timingSafeEqual` always reads every
 * byte. The length check first makes it safe to call (it throws on unequal lengths) and leaks only the
 * length, which is public: a SHA-256 digest is 32 bytes.
 */
export function digestsEqual(actual: Buffer, expected: Buffer): boolean {
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

function matchingSlot(secrets: readonly KeyObject[], bytes: Buffer, expected: Buffer): number {
  for (let slot = 0; slot < secrets.length; slot++) {
    const digest = createHmac('sha256', secrets[slot]!).update(bytes).digest()
    if (digestsEqual(digest, expected)) return slot
  }
  return -1
}

/** The docs' example handler signs `JSON.stringify(JSON.parse(raw))`; undefined when the body is not JSON. */
function reserialise(body: Buffer): { bytes: Buffer; parsed: unknown } | undefined {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'))
    const bytes = Buffer.from(JSON.stringify(parsed), 'utf8')
    return bytes.equals(body) ? undefined : { bytes, parsed }
  } catch {
    return undefined
  }
}

/**
 * Checks Tylt's HMAC-SHA256 over the raw body against every secret of every candidate service; the raw
 * bytes are tried for all of them before the JSON fallback, so a raw match always wins. The fallback parses
 * and re-serialises the body at most once, however many secrets are tried, and only for bodies of at most
 * FALLBACK_MAX_BYTES; `jsonFallback` may be a function, asked only once the raw bytes matched nothing (the
 * webhook route asks admission there). Pure: no I/O.
 */
export function verifySignature(
  services: readonly ServiceKeys[],
  body: Buffer,
  header: string | undefined,
  jsonFallback: boolean | (() => boolean),
): Verification {
  const expected = decodeSignature(header)
  if (typeof expected === 'string') return { ok: false, reason: expected }
  for (const service of services) {
    const slot = matchingSlot(service.secrets, body, expected)
    if (slot >= 0) return { ok: true, service: service.name, slot, bytes: body }
  }
  const tryFallback =
    body.length <= FALLBACK_MAX_BYTES && (typeof jsonFallback === 'boolean' ? jsonFallback : jsonFallback())
  const fallback = tryFallback ? reserialise(body) : undefined
  if (fallback !== undefined) {
    for (const service of services) {
      const slot = matchingSlot(service.secrets, fallback.bytes, expected)
      if (slot >= 0) return { ok: true, service: service.name, slot, ...fallback }
    }
  }
  return { ok: false, reason: 'mismatch' }
}
