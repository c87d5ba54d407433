import { createHmac } from 'node:crypto'

/** Test secrets; the signatures are always computed, never pasted. */
export const SECRETS = {
  cpg: 'cpg-secret-2f9c1d',
  upiCurrent: 'upi-secret-new-77a1',
  upiOlder: 'upi-secret-old-03be',
} as const

export const sign = (secret: string, body: Buffer | string): string =>
  createHmac('sha256', secret).update(body).digest('hex')
