import { createSecretKey } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { decodeSignature, verifySignature } from '../../src/verify/verify-signature.js'
import { sign } from '../helpers/index.js'

const key = (secret: string) => createSecretKey(Buffer.from(secret))
const cpg = { name: 'cpg', secrets: [key('s-current'), key('s-older')] }
const upi = { name: 'upi', secrets: [key('u-current')] }
const body = Buffer.from('{"type":"pay-in","data":{"orderId":"o-1","status":"Completed"}}')

describe('decodeSignature', () => {
  it.each([
    [undefined, 'missing'],
    ['', 'missing'],
    ['   ', 'missing'],
    ['a'.repeat(63), 'malformed'],
    ['a'.repeat(65), 'malformed'],
    [`${'a'.repeat(63)}z`, 'malformed'],
    [`sha256=${'a'.repeat(64)}`, 'malformed'],
  ])('%j is %s', (header, reason) => {
    expect(decodeSignature(header)).toBe(reason)
  })

  it('takes 64 hex digits in either case, surrounding spaces ignored', () => {
    const hex = sign('s-current', body)
    expect(decodeSignature(` ${hex.toUpperCase()}\t`)).toEqual(Buffer.from(hex, 'hex'))
  })
})

describe('verifySignature', () => {
  it('accepts the raw bytes with the current secret (slot 0) and keeps them', () => {
    const result = verifySignature([cpg], body, sign('s-current', body), true)
    expect(result).toEqual({ ok: true, service: 'cpg', slot: 0, bytes: body })
    if (result.ok) expect(result.bytes).toBe(body)
  })

  it('reports an older secret of a rotation as slot 1', () => {
    expect(verifySignature([cpg], body, sign('s-older', body), true)).toMatchObject({ ok: true, slot: 1 })
  })

  it('names the service whose secret matched among several', () => {
    expect(verifySignature([cpg, upi], body, sign('u-current', body), true)).toMatchObject({
      ok: true,
      service: 'upi',
    })
  })

  it('refuses a signature made with a secret the service does not have', () => {
    expect(verifySignature([cpg], body, sign('u-current', body), true)).toEqual({
      ok: false,
      reason: 'mismatch',
    })
  })

  it('refuses when one byte of the body changed', () => {
    const changed = Buffer.from(body)
    changed[10] = changed[10]! + 1
    expect(verifySignature([cpg], changed, sign('s-current', body), true)).toEqual({
      ok: false,
      reason: 'mismatch',
    })
  })

  it('falls back to JSON.stringify(JSON.parse(raw)) and keeps the re-serialised bytes', () => {
    const pretty = Buffer.from(JSON.stringify(JSON.parse(body.toString()), null, 2))
    const result = verifySignature([cpg], pretty, sign('s-current', body), true)
    expect(result).toMatchObject({ ok: true, service: 'cpg', slot: 0 })
    if (result.ok) expect(result.bytes.equals(body)).toBe(true)
  })

  it('does not fall back when the fallback is off', () => {
    const pretty = Buffer.from(JSON.stringify(JSON.parse(body.toString()), null, 2))
    expect(verifySignature([cpg], pretty, sign('s-current', body), false)).toEqual({
      ok: false,
      reason: 'mismatch',
    })
  })

  it('refuses a body that is not JSON and does not match raw', () => {
    expect(verifySignature([cpg], Buffer.from('not json'), sign('s-current', 'other'), true)).toEqual({
      ok: false,
      reason: 'mismatch',
    })
  })
})
