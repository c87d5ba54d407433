import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import { verifyDelivery } from '../../src/consumer/verify-delivery.js'
import { metadataHeaders } from '../../src/forward/metadata-headers.js'
import { parseSigningSecret, signWebhook } from '../../src/forward/sinks/http/webhook-signature.js'
import { relayEvent } from '../helpers/index.js'

const SECRET = `whsec_${randomBytes(32).toString('base64')}`
const OTHER = `whsec_${randomBytes(32).toString('base64')}`

/** The headers the relay's HTTP downstream sends for a body, signed at `seconds`, as the relay signs them. */
function relayHeaders(body: Buffer, seconds: number, secret = SECRET): Record<string, string> {
  const event = relayEvent({ id: 'evt_0a1b2c', body, acceptedAt: seconds * 1000 })
  const headers = metadataHeaders(event)
  const stamp = String(seconds)
  return {
    ...headers,
    'webhook-timestamp': stamp,
    'webhook-signature': signWebhook(parseSigningSecret(secret), event.id, stamp, body),
  }
}

const now = () => Math.floor(Date.now() / 1000)

describe('verifyDelivery', () => {
  const body = Buffer.from('{"type":"pay-in","data":{"orderId":"o-1","status":"Completed"}}')

  it('accepts what the relay sends, with fetch Headers as well as a plain object', () => {
    const headers = relayHeaders(body, now())
    expect(verifyDelivery(headers, body, SECRET)).toEqual({ ok: true, id: 'evt_0a1b2c', timestamp: now() })
    expect(verifyDelivery(new Headers(headers), body.toString(), SECRET).ok).toBe(true)
    // Mid-rotation: either secret.
    expect(verifyDelivery(headers, body, [OTHER, SECRET]).ok).toBe(true)
  })

  it('refuses a changed byte', () => {
    const changed = Buffer.from(body)
    changed[20] = changed[20]! ^ 0x01
    expect(verifyDelivery(relayHeaders(body, now()), changed, SECRET)).toEqual({
      ok: false,
      reason: 'bad-signature',
    })
  })

  it('refuses a timestamp older, or further ahead, than five minutes', () => {
    expect(verifyDelivery(relayHeaders(body, now() - 301), body, SECRET)).toEqual({
      ok: false,
      reason: 'too-old',
    })
    expect(verifyDelivery(relayHeaders(body, now() + 301), body, SECRET)).toEqual({
      ok: false,
      reason: 'too-new',
    })
    expect(verifyDelivery(relayHeaders(body, now() - 295), body, SECRET).ok).toBe(true)
  })

  it('refuses another secret, and a delivery without its headers', () => {
    expect(verifyDelivery(relayHeaders(body, now()), body, OTHER)).toEqual({
      ok: false,
      reason: 'bad-signature',
    })
    expect(verifyDelivery(relayHeaders(body, now(), OTHER), body, SECRET).ok).toBe(false)
    const { 'webhook-signature': _, ...unsigned } = relayHeaders(body, now())
    expect(verifyDelivery(unsigned, body, SECRET)).toEqual({ ok: false, reason: 'missing-headers' })
  })

  it('agrees with the standardwebhooks package on 1,000 random cases', () => {
    const mutation = fc.constantFrom('none', 'body', 'secret', 'signature', 'id')
    const offset = fc.oneof(
      fc.integer({ min: -290, max: 290 }),
      fc.integer({ min: 310, max: 3600 }).map((s) => -s),
    )
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 24, maxLength: 64 }),
        fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/),
        fc.string({ unit: 'grapheme', maxLength: 300 }),
        offset,
        mutation,
        (key, id, text, shift, change) => {
          const secret = `whsec_${Buffer.from(key).toString('base64')}`
          const stamp = String(now() + shift)
          const signature = signWebhook(Buffer.from(key), id, stamp, Buffer.from(text))
          const headers = {
            'webhook-id': change === 'id' ? `${id}x` : id,
            'webhook-timestamp': stamp,
            'webhook-signature': change === 'signature' ? `v1,${'A'.repeat(43)}=` : signature,
          }
          const payload = change === 'body' ? `${text} ` : text
          const used = change === 'secret' ? OTHER : secret
          let theirs = true
          try {
            new Webhook(used).verify(payload, headers, { jsonParse: false })
          } catch {
            theirs = false
          }
          expect(verifyDelivery(headers, payload, used).ok).toBe(theirs)
          if (change === 'none' && shift > -300) expect(theirs).toBe(true)
        },
      ),
      { numRuns: 1000 },
    )
  })
})
