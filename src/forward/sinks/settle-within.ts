import type { SendResult } from '../../core/sink.js'

/** Per message: null when the downstream confirmed it, otherwise why not. */
export type Outcome = Error | null

/**
 * Waits for every confirmation of a batch, but no longer than `timeoutMs`: a broker that stops answering
 * (blocked by a memory alarm, a half-open socket) must not stall the forwarder. Unanswered messages get a
 * timeout error and `timedOut` tells the caller its connection is suspect.
 */
export async function settleWithin(
  pending: readonly Promise<Outcome>[],
  timeoutMs: number,
  timeoutMessage: string,
): Promise<{ outcomes: Outcome[]; timedOut: boolean }> {
  // Until its promise settles, each slot holds the timeout error it will report if the deadline comes first.
  const late = new Error(timeoutMessage)
  const outcomes: Outcome[] = pending.map(() => late)
  const all = Promise.all(
    pending.map(async (promise, index) => {
      outcomes[index] = await promise
    }),
  )
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs)
  })
  await Promise.race([all, deadline])
  clearTimeout(timer)
  return { outcomes: [...outcomes], timedOut: outcomes.includes(late) }
}

/** The delivered prefix: everything before the first failure, whatever happened after it. */
export function confirmedPrefix(outcomes: readonly Outcome[]): SendResult {
  const failed = outcomes.findIndex((outcome) => outcome !== null)
  if (failed === -1) return { delivered: outcomes.length }
  return { delivered: failed, error: outcomes[failed]! }
}
