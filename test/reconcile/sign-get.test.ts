import { createHmac, createSecretKey } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { signGet } from '../../src/reconcile/sign-get.js'

const secret = createSecretKey(Buffer.from('s3cr3t'))
const hex = (text: string) => createHmac('sha256', 's3cr3t').update(text).digest('hex')

describe('signGet', () => {
  it('signs JSON.stringify of the params in the JSON form, and sends them as a query string', () => {
    const signed = signGet(secret, [['orderId', 'a49579dd-7711-11ef-8277-02d8461243e9']], 'json')
    expect(signed.query).toBe('orderId=a49579dd-7711-11ef-8277-02d8461243e9')
    expect(signed.signature).toBe(hex('{"orderId":"a49579dd-7711-11ef-8277-02d8461243e9"}'))
  })

  it('signs the query string itself in the query form, encoded as sent', () => {
    const signed = signGet(secret, [['merchantOrderId', 'ORD 1&2']], 'query')
    expect(signed.query).toBe('merchantOrderId=ORD+1%262')
    expect(signed.signature).toBe(hex('merchantOrderId=ORD+1%262'))
  })

  it('signs {} with no params, and keeps values strings in their order', () => {
    expect(signGet(secret, [], 'json').signature).toBe(hex('{}'))
    expect(
      signGet(
        secret,
        [
          ['rows', '100'],
          ['page', '1'],
        ],
        'json',
      ).signature,
    ).toBe(hex('{"rows":"100","page":"1"}'))
  })
})
