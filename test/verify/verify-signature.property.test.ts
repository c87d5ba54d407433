import { createSecretKey } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { eventId } from '../../src/event/event-id.js'
import { type ServiceKeys, verifySignature } from '../../src/verify/verify-signature.js'
import { buildTestApp, SECRETS, sign } from '../helpers/index.js'

// Printable ASCII secrets: HMAC pads keys with zero bytes, so "k" and "k\0" are the same key by design of
// HMAC (RFC 2104), not a flaw of the relay; generating only printable keys keeps distinct secrets distinct.
const secret = fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 80 })
const rawBody = fc.uint8Array({ minLength: 0, maxLength: 512 }).map((bytes) => Buffer.from(bytes))
const jsonBody = fc.json().map((text) => Buffer.from(text, 'utf8'))
const body = fc.oneof(rawBody, jsonBody)

const keys = (name: string, ...secrets: string[]): ServiceKeys => ({
  name,
  secrets: secrets.map((s) => createSecretKey(Buffer.from(s, 'utf8'))),
})

/** A body with one byte replaced by a different value. */
const mutatedBody = body
  .filter((b) => b.length > 0)
  .chain((b) =>
    fc
      .tuple(fc.constant(b), fc.nat({ max: b.length - 1 }), fc.integer({ min: 1, max: 255 }))
      .map(([original, index, delta]) => {
        const copy = Buffer.from(original)
        copy[index] = (copy[index]! + delta) % 256
        return { original, mutated: copy }
      }),
  )

describe('verifySignature (property-based)', () => {
  it('accepts every genuine pair, with the raw bytes and the right slot', () => {
    fc.assert(
      fc.property(
        body,
        fc.uniqueArray(secret, { minLength: 1, maxLength: 4 }),
        fc.nat(),
        (b, secrets, pick) => {
          const slot = pick % secrets.length
          const result = verifySignature([keys('svc', ...secrets)], b, sign(secrets[slot]!, b), true)
          expect(result).toMatchObject({ ok: true, service: 'svc', slot })
          expect(result.ok && result.bytes.equals(b)).toBe(true)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('refuses a signature made with any other secret', () => {
    fc.assert(
      fc.property(body, secret, secret, fc.boolean(), (b, configured, other, fallback) => {
        fc.pre(configured !== other)
        expect(verifySignature([keys('svc', configured)], b, sign(other, b), fallback)).toEqual({
          ok: false,
          reason: 'mismatch',
        })
      }),
      { numRuns: 500 },
    )
  })

  it('refuses any single-byte change of the body without the JSON fallback', () => {
    fc.assert(
      fc.property(mutatedBody, secret, ({ original, mutated }, s) => {
        expect(verifySignature([keys('svc', s)], mutated, sign(s, original), false).ok).toBe(false)
      }),
      { numRuns: 1_000 },
    )
  })

  it('with the fallback, a changed body passes only as the exact signed bytes', () => {
    // The fallback may accept a different spelling of the same JSON (e.g. "\u001F" for "\u001f"), but what it
    // hands on is then the signed form, byte for byte: never the bytes that were changed.
    fc.assert(
      fc.property(mutatedBody, secret, ({ original, mutated }, s) => {
        const result = verifySignature([keys('svc', s)], mutated, sign(s, original), true)
        if (result.ok) expect(result.bytes.equals(original)).toBe(true)
      }),
      { numRuns: 1_000 },
    )
  })

  it('refuses any single-bit change of the signature', () => {
    fc.assert(
      fc.property(body, secret, fc.nat({ max: 255 }), fc.boolean(), (b, s, bit, upper) => {
        const digest = Buffer.from(sign(s, b), 'hex')
        digest[bit >> 3] = digest[bit >> 3]! ^ (1 << (bit & 7))
        const header = upper ? digest.toString('hex').toUpperCase() : digest.toString('hex')
        expect(verifySignature([keys('svc', s)], b, header, true).ok).toBe(false)
      }),
      { numRuns: 1_000 },
    )
  })

  it('refuses any single hex character changed to another value, and accepts a change of case only', () => {
    fc.assert(
      fc.property(
        body,
        secret,
        fc.nat({ max: 63 }),
        fc.constantFrom(...'0123456789abcdefABCDEFgz -'),
        (b, s, at, c) => {
          const good = sign(s, b)
          const header = good.slice(0, at) + c + good.slice(at + 1)
          const sameDigit = c.toLowerCase() === good[at]
          expect(verifySignature([keys('svc', s)], b, header, true).ok).toBe(sameDigit)
        },
      ),
      { numRuns: 1_000 },
    )
  })

  it('names the service whose secret signed, when every service is tried', () => {
    fc.assert(
      fc.property(
        body,
        fc.uniqueArray(secret, { minLength: 2, maxLength: 5 }),
        fc.nat(),
        (b, secrets, pick) => {
          const services = secrets.map((s, i) => keys(`svc-${i}`, s))
          const index = pick % secrets.length
          expect(verifySignature(services, b, sign(secrets[index]!, b), true)).toMatchObject({
            ok: true,
            service: `svc-${index}`,
          })
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('the webhook route (property-based)', () => {
  it('stores a body exactly when its signature is genuine, whatever is changed', async () => {
    // Over a hundred forgeries from one address: this property is about signatures, not the source budget
    // that would penalise the address (test/admission/source-budget.test.ts).
    const { app, stored } = await buildTestApp({}, undefined, { admission: { budgetBytes: 1e12 } })
    const attempt = fc.record({
      body: fc.oneof(rawBody, jsonBody).filter((b) => b.length > 0),
      secret: fc.constantFrom(SECRETS.cpg, SECRETS.upiCurrent, 'forger-guess'),
      change: fc.constantFrom('none', 'body-byte', 'signature-bit', 'truncate-signature'),
      at: fc.nat(),
    })
    let runs = 0
    await fc.assert(
      fc.asyncProperty(attempt, async ({ body: original, secret: s, change, at }) => {
        // A per-run prefix keeps every genuine body new, so "stored" cannot be an earlier run's event.
        const b = Buffer.concat([Buffer.from(`run-${runs++}:`), original])
        let payload = b
        let signature = sign(s, b)
        if (change === 'body-byte') {
          payload = Buffer.from(b)
          payload[at % payload.length] = payload[at % payload.length]! ^ (1 + (at % 255))
        } else if (change === 'signature-bit') {
          const digest = Buffer.from(signature, 'hex')
          digest[at % 32] = digest[at % 32]! ^ (1 << (at % 8))
          signature = digest.toString('hex')
        } else if (change === 'truncate-signature') {
          signature = signature.slice(0, at % 64)
        }
        const before = stored().length
        const res = await app.inject({
          method: 'POST',
          url: '/webhooks/cpg',
          headers: { 'x-tlp-signature': signature },
          payload,
        })
        const genuine = s === SECRETS.cpg && change === 'none'
        expect(res.statusCode).toBe(genuine ? 200 : 401)
        const after = stored()
        expect(after).toHaveLength(before + (genuine ? 1 : 0))
        if (genuine) expect(after.some((e) => e.id === eventId('cpg', b))).toBe(true)
      }),
      { numRuns: 150 },
    )
  })
})
