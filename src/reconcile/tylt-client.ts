import type { KeyObject } from 'node:crypto'
import { type SigningForm, signGet } from './sign-get.js'

/** Tylt's answer, as received; `status` 0 when none came (timeout, refused connection, DNS). */
export interface TyltAnswer {
  readonly status: number
  readonly body: Buffer
  /** Retry-After in milliseconds (seconds or an HTTP date), when given. */
  readonly retryAfterMs: number | undefined
  /** Why no answer came; never a URL with ids, never a header. */
  readonly failure?: string
}

export interface TyltRequest {
  readonly baseUrl: string
  readonly path: string
  readonly params: readonly (readonly [string, string])[]
  readonly apiKey: string
  readonly secret: KeyObject
  readonly form: SigningForm
  readonly timeoutMs: number
  /** Larger answers are refused: an answer becomes an event's body. */
  readonly maxBytes: number
}

function retryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
  const at = Date.parse(value)
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined
}

/** One signed GET to Tylt's merchant API. Never throws: a failure is an answer with status 0. */
export async function queryTylt(request: TyltRequest): Promise<TyltAnswer> {
  const { query, signature } = signGet(request.secret, request.params, request.form)
  try {
    const response = await fetch(`${request.baseUrl}${request.path}?${query}`, {
      headers: {
        'X-TLP-APIKEY': request.apiKey,
        'X-TLP-SIGNATURE': signature,
        Accept: 'application/json',
        'User-Agent': 'tylt-relay',
      },
      redirect: 'error',
      signal: AbortSignal.timeout(request.timeoutMs),
    })
    const body = Buffer.from(await response.arrayBuffer())
    if (body.length > request.maxBytes)
      return { status: 0, body: Buffer.alloc(0), retryAfterMs: undefined, failure: 'answer too large' }
    return {
      status: response.status,
      body,
      retryAfterMs: retryAfter(response.headers.get('retry-after'), Date.now()),
    }
  } catch (err) {
    const error = err as Error & { cause?: { code?: string } }
    const failure =
      error.name === 'TimeoutError' ? 'timeout' : (error.cause?.code ?? error.name ?? 'request failed')
    return { status: 0, body: Buffer.alloc(0), retryAfterMs: undefined, failure }
  }
}
