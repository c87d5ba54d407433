import { createHmac, timingSafeEqual } from 'node:crypto'
import { type MetadataSource, readMetadata } from './read-metadata.js'

/** Standard Webhooks' replay window: a timestamp further than this from now is refused. */
export const DELIVERY_TOLERANCE_SECONDS = 5 * 60

export type DeliveryCheck =
  | { readonly ok: true; readonly id: string; readonly timestamp: number }
  | {
      readonly ok: false
      readonly reason: 'missing-headers' | 'bad-timestamp' | 'too-old' | 'too-new' | 'bad-signature'
    }

export interface VerifyOptions {
  /** Seconds since the epoch; the clock by default. */
  readonly now?: number
  readonly toleranceSeconds?: number
}

/** The key of a `whsec_<base64>` secret (the prefix is optional, as in Standard Webhooks libraries). */
const keyOf = (secret: string) => Buffer.from(secret.trim().replace(/^whsec_/, ''), 'base64')

/**
 * Checks the Standard Webhooks signature the relay adds to an HTTP delivery (FORWARD_SIGNING_SECRET):
 * `webhook-signature` holds `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` entries, any of which may match,
 * and `webhook-timestamp` must be within five minutes of now
 * (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md).
 * Pass every secret in use during a rotation. Never throws.
 */
export function verifyDelivery(
  headers: MetadataSource,
  body: Uint8Array | string,
  secret: string | readonly string[],
  options: VerifyOptions = {},
): DeliveryCheck {
  const id = readMetadata(headers, 'webhook-id')
  const stamp = readMetadata(headers, 'webhook-timestamp')
  const signatures = readMetadata(headers, 'webhook-signature')
  if (id === undefined || stamp === undefined || signatures === undefined)
    return { ok: false, reason: 'missing-headers' }
  if (!/^\d{1,15}$/.test(stamp)) return { ok: false, reason: 'bad-timestamp' }
  const timestamp = Number(stamp)
  const now = options.now ?? Math.floor(Date.now() / 1000)
  const tolerance = options.toleranceSeconds ?? DELIVERY_TOLERANCE_SECONDS
  if (timestamp < now - tolerance) return { ok: false, reason: 'too-old' }
  if (timestamp > now + tolerance) return { ok: false, reason: 'too-new' }
  const offered = signatures
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => Buffer.from(entry.slice(3), 'base64'))
  for (const one of typeof secret === 'string' ? [secret] : secret) {
    const expected = createHmac('sha256', keyOf(one)).update(`${id}.${stamp}.`).update(body).digest()
    // Constant time, after the length check timingSafeEqual needs.
    if (offered.some((mac) => mac.length === expected.length && timingSafeEqual(mac, expected)))
      return { ok: true, id, timestamp }
  }
  return { ok: false, reason: 'bad-signature' }
}
