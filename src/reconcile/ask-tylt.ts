import type { KeyObject } from 'node:crypto'
import type { GetSigning, ReconcileTarget } from '../config/reconcile-config.js'
import { currentApiKey } from '../config/reconcile-config.js'
import type { ReconcileObserver } from './reconcile-observer.js'
import { MAX_WAIT_MS, type ServiceGate, type Sleep } from './service-gate.js'
import type { SigningForm } from './sign-get.js'
import { queryTylt, type TyltAnswer } from './tylt-client.js'

/** Tylt's Retry-After when it sends none. */
const DEFAULT_RETRY_AFTER_MS = 60_000
const RATE_LIMITED_TRIES = 3

export interface AskContext {
  readonly target: ReconcileTarget
  readonly secret: KeyObject
  readonly gate: ServiceGate
  readonly signing: GetSigning
  /** The GET signing form learnt per service (`auto`): json first, the query string once json is refused. */
  readonly forms: Map<string, SigningForm>
  readonly timeoutMs: number
  readonly maxBytes: number
  readonly observer: ReconcileObserver
  readonly now: () => number
  readonly sleep: Sleep
}

const isAuth = (status: number) => status === 401 || status === 403

function outcomeOf(status: number): string {
  if (status >= 200 && status < 300) return 'ok'
  if (isAuth(status)) return 'auth'
  if (status === 429) return 'rate-limited'
  if (status === 404 || status === 400) return 'not-found'
  return 'error'
}

async function once(ctx: AskContext, path: string, params: [string, string][], form: SigningForm) {
  await ctx.gate.turn(ctx.now, ctx.sleep)
  const answer = await queryTylt({
    baseUrl: ctx.target.url,
    path,
    params,
    apiKey: currentApiKey(ctx.target),
    secret: ctx.secret,
    form,
    timeoutMs: ctx.timeoutMs,
    maxBytes: ctx.maxBytes,
  })
  ctx.observer.onRequest(ctx.target.service, outcomeOf(answer.status))
  return answer
}

/**
 * One query, paced by the service's gate: a 429 waits for its Retry-After (a few times at most), and with
 * `auto` signing a first 401 is tried once more in the other GET form, which is kept when Tylt takes it.
 */
export async function askTylt(
  ctx: AskContext,
  path: string,
  params: [string, string][],
): Promise<TyltAnswer> {
  const service = ctx.target.service
  for (let tries = 1; ; tries++) {
    const learnt = ctx.forms.get(service)
    const form: SigningForm = learnt ?? (ctx.signing === 'query' ? 'query' : 'json')
    let answer = await once(ctx, path, params, form)
    if (isAuth(answer.status) && ctx.signing === 'auto' && learnt === undefined) {
      const other: SigningForm = form === 'json' ? 'query' : 'json'
      answer = await once(ctx, path, params, other)
      if (!isAuth(answer.status) && answer.status !== 0) ctx.forms.set(service, other)
    } else if (!isAuth(answer.status) && answer.status !== 0 && ctx.signing === 'auto') {
      ctx.forms.set(service, form)
    }
    if (answer.status !== 429) return answer
    const wait = answer.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS
    ctx.gate.pause(ctx.now() + wait)
    if (tries >= RATE_LIMITED_TRIES || wait > MAX_WAIT_MS) return answer
  }
}
