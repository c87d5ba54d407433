import { createHmac } from 'node:crypto'

const PREFIX = 'whsec_'
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/

/**
 * Decodes a Standard Webhooks secret (`whsec_<base64>`). The spec asks for 24 to 64 random bytes
 * (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#signature-scheme).
 * Errors never repeat the value: it is a secret even when malformed.
 */
export function parseSigningSecret(secret: string): Buffer {
  const trimmed = secret.trim()
  if (!trimmed.startsWith(PREFIX)) {
    throw new Error('FORWARD_SIGNING_SECRET must be in Standard Webhooks format: whsec_<base64>')
  }
  const encoded = trimmed.slice(PREFIX.length)
  if (encoded.length % 4 !== 0 || !BASE64.test(encoded)) {
    throw new Error('FORWARD_SIGNING_SECRET is not valid base64 after the whsec_ prefix')
  }
  const key = Buffer.from(encoded, 'base64')
  if (key.length < 24 || key.length > 64) {
    throw new Error(`FORWARD_SIGNING_SECRET must decode to 24 to 64 bytes, not ${key.length}`)
  }
  return key
}

/** The `webhook-signature` value: `v1,` + base64 HMAC-SHA256 of `${id}.${timestamp}.${body}`. */
export function signWebhook(key: Buffer, id: string, timestamp: string, body: Buffer): string {
  const mac = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64')
  return `v1,${mac}`
}
