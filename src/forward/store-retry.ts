import { backoffDelay } from './backoff.js'
import type { FailureLog } from './failure-log.js'
import { FORWARDER_STORE_LIMITS } from './forward-tuning.js'
import type { ForwarderHealth } from './forwarder-health.js'
import type { Pause } from './pause.js'

export interface StoreRetryHooks {
  /** Told at each failure (a stop ends its drain). */
  readonly failed: () => void
  /** Told once, when the store has failed past the exit bound. */
  readonly fatal: (err: unknown) => void
  readonly stopping: () => boolean
}

/**
 * The forwarder's use of its store: a failing read or write is logged once per kind, backed off (100 ms
 * doubling up to FORWARDER_STORE_LIMITS.backoffMaxMs) and reported to the forwarder's health, which turns
 * a long enough run of failures into "not ready" and then into an exit.
 */
export class StoreRetry {
  #failures = 0
  #fatal = false

  constructor(
    readonly health: ForwarderHealth,
    readonly log: FailureLog,
    readonly pause: Pause,
    readonly hooks: StoreRetryHooks,
  ) {}

  get failing(): boolean {
    return this.#failures > 0
  }

  /** One attempt; undefined (after the backoff) when it failed. */
  async read<T>(kind: string, read: () => Promise<T>): Promise<T | undefined> {
    try {
      const value = await read()
      this.#answered(kind)
      return value
    } catch (err) {
      await this.#failed(kind, err)
      return undefined
    }
  }

  /** Retries until the write succeeds; false when the forwarder stopped first. */
  async write(kind: string, write: () => Promise<unknown>): Promise<boolean> {
    for (;;) {
      try {
        await write()
        this.#answered(kind)
        return true
      } catch (err) {
        await this.#failed(kind, err)
        if (this.hooks.stopping()) return false
      }
    }
  }

  #answered(kind: string): void {
    this.#failures = 0
    const failedForMs = this.health.storeAnswered()
    if (failedForMs !== undefined) this.log.recovered(`store ${kind}`, 'store usable again', { failedForMs })
  }

  async #failed(kind: string, err: unknown): Promise<void> {
    this.health.storeFailed(err)
    this.#failures++
    this.log.failed(`store ${kind}`, err, `forwarder cannot ${kind} in the store; retrying`, {}, 'error')
    this.hooks.failed()
    if (this.health.mustExit() && !this.#fatal) {
      this.#fatal = true
      this.hooks.fatal(err)
    }
    await this.pause.sleep(backoffDelay(this.#failures, 100, FORWARDER_STORE_LIMITS.backoffMaxMs))
  }
}
