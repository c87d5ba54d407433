import type { Logger } from 'pino'
import { describeFailure } from '../core/describe-failure.js'

interface Streak {
  readonly code: string
  repeats: number
}

/**
 * Logs a failing operation once per kind and code, not once per retry: a downstream down for an hour is one
 * line when it fails and one when it recovers, with the number of failed attempts between. A new code for
 * the same kind (the refusal turned into a timeout) is a new line. Lines carry `code` and `error` (the
 * message), never a stack: these are ordinary operating conditions, not bugs.
 */
export class FailureLog {
  readonly #streaks = new Map<string, Streak>()

  constructor(
    readonly logger: Logger,
    readonly fields: Record<string, unknown> = {},
  ) {}

  /** True when this failure was logged (the first of its kind and code). */
  failed(
    kind: string,
    err: unknown,
    message: string,
    extra: Record<string, unknown> = {},
    level: 'warn' | 'error' = 'warn',
  ): boolean {
    const { code, message: error } = describeFailure(err)
    const streak = this.#streaks.get(kind)
    if (streak !== undefined && streak.code === code) {
      streak.repeats++
      return false
    }
    this.#streaks.set(kind, { code, repeats: 0 })
    this.logger[level]({ ...this.fields, ...extra, code, error }, message)
    return true
  }

  /** The operation of this kind succeeded: logs the recovery if its failure was logged. */
  recovered(kind: string, message: string, extra: Record<string, unknown> = {}): void {
    const streak = this.#streaks.get(kind)
    if (streak === undefined) return
    this.#streaks.delete(kind)
    this.logger.info({ ...this.fields, ...extra, failedAttempts: streak.repeats + 1 }, message)
  }

  failing(kind: string): boolean {
    return this.#streaks.has(kind)
  }
}
