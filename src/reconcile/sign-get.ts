import { createHmac, type KeyObject } from 'node:crypto'

export type SigningForm = 'json' | 'query'

/** A signed GET: the query string to send and the `X-TLP-SIGNATURE` that goes with it. */
export interface SignedQuery {
  readonly query: string
  readonly signature: string
}

/**
 * Signs a GET to Tylt. Tylt's pages disagree on what a GET signs: every newer example signs
 * `JSON.stringify(params)` (`{}` with none), older ones the query string itself
 * (docs/reconcile.md, "What Tylt's docs leave open"). Values are strings, in the order they are sent.
 */
export function signGet(
  secret: KeyObject,
  params: readonly (readonly [string, string])[],
  form: SigningForm,
): SignedQuery {
  const query = new URLSearchParams(params.map(([k, v]): [string, string] => [k, v])).toString()
  const signed = form === 'json' ? JSON.stringify(Object.fromEntries(params)) : query
  return { query, signature: createHmac('sha256', secret).update(signed).digest('hex') }
}
