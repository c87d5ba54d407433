import type { SendResult } from '../../core/sink.js'
import { deliveryError } from './delivery-error.js'
import { Refusal } from './refusal.js'

/**
 * Per message: null (or what its ack said, as text) when the downstream confirmed it, otherwise why not (a
 * Refusal when for good).
 */
export type Outcome = Error | string | null

const UNANSWERED = Symbol('unanswered')

/**
 * Waits for every confirmation of a batch, but no longer than `timeoutMs`, nor past `signal` (shutdown): a
 * broker that stops answering (blocked by a memory alarm, a half-open socket) must not stall the forwarder.
 * Unanswered messages get the timeout error (or `abortError`) and `timedOut` tells the caller its
 * connection is suspect: confirms may still arrive for messages nobody waits for.
 */
export async function settleWithin(
  pending: readonly Promise<Outcome>[],
  timeoutMs: number,
  timeoutMessage: string,
  signal?: AbortSignal,
  abortError: () => Error = () => new Error('stopped waiting for confirms'),
): Promise<{ outcomes: Outcome[]; timedOut: boolean }> {
  const outcomes: (Outcome | typeof UNANSWERED)[] = pending.map(() => UNANSWERED)
  const all = Promise.all(
    pending.map(async (promise, index) => {
      outcomes[index] = await promise
    }),
  )
  let timer: NodeJS.Timeout | undefined
  let onAbort = (): void => undefined
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs)
    onAbort = resolve
    signal?.addEventListener('abort', onAbort, { once: true })
  })
  await Promise.race(signal?.aborted === true ? [deadline, Promise.resolve()] : [all, deadline])
  clearTimeout(timer)
  signal?.removeEventListener('abort', onAbort)
  const timedOut = outcomes.includes(UNANSWERED)
  // One error for every unanswered slot: the reason nobody waits any longer.
  const late = signal?.aborted === true ? abortError() : deliveryError('TIMEOUT', timeoutMessage)
  return { outcomes: outcomes.map((outcome) => (outcome === UNANSWERED ? late : outcome)), timedOut }
}

/** The delivered prefix: everything before the first failure, whatever happened after it. */
export function confirmedPrefix(outcomes: readonly Outcome[]): SendResult {
  const failed = outcomes.findIndex((outcome) => outcome instanceof Error)
  const delivered = failed === -1 ? outcomes.length : failed
  // The acks' texts, when the downstream's acks say anything.
  const said = outcomes.slice(0, delivered).map((o) => (typeof o === 'string' ? { text: o } : {}))
  const answers = said.some((a) => 'text' in a) ? { answers: said } : {}
  if (failed === -1) return { delivered, ...answers }
  const error = outcomes[failed] as Error
  return error instanceof Refusal
    ? { delivered, error, permanent: true, ...answers }
    : { delivered, error, ...answers }
}
