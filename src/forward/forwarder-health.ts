import { describeFailure } from '../core/describe-failure.js'
import type { DownstreamStatus, Sink } from '../core/sink.js'
import { FORWARDER_STORE_LIMITS } from './forward-tuning.js'

export interface HealthLimits {
  /** Store failing for this long in a row: not ready. */
  readonly notReadyAfterMs: number
  /** ... and for this long: the relay should exit so that it is restarted. */
  readonly exitAfterMs: number
}

/**
 * What a forwarder knows of its own health: whether the downstream and the store answer, when it last made
 * progress, and since when (on the monotonic clock) the store has failed without a break.
 */
export class ForwarderHealth {
  #downstreamUp = true
  #storeFailingSince: number | undefined
  #lastProgressAt: number | null = null
  #lastProgressMono = Number.NEGATIVE_INFINITY
  #lastError: string | null = null
  #ended = false

  constructor(
    readonly sink: Pick<Sink, 'kind' | 'target'>,
    readonly services: readonly string[] | null,
    readonly limits: HealthLimits = FORWARDER_STORE_LIMITS,
    readonly wallClock: () => number = Date.now,
    readonly monotonic: () => number = performance.now.bind(performance),
  ) {}

  /** An event was delivered or dead-lettered, or there was nothing to do. */
  progressed(): void {
    this.#lastProgressAt = this.wallClock()
    this.#lastProgressMono = this.monotonic()
  }

  /** Monotonic time of the last progress; -Infinity before any. */
  lastProgressMono(): number {
    return this.#lastProgressMono
  }

  downstreamAnswered(): void {
    this.#downstreamUp = true
    if (this.#storeFailingSince === undefined) this.#lastError = null
  }

  downstreamFailed(err: unknown): void {
    this.#downstreamUp = false
    this.#lastError = summary(err)
  }

  storeAnswered(): number | undefined {
    const since = this.#storeFailingSince
    this.#storeFailingSince = undefined
    if (since !== undefined && this.#downstreamUp) this.#lastError = null
    return since === undefined ? undefined : this.monotonic() - since
  }

  storeFailed(err: unknown): void {
    this.#storeFailingSince ??= this.monotonic()
    this.#lastError = `store: ${summary(err)}`
  }

  /** The loop ended without being stopped (a bug): never ready again. */
  ended(err: unknown): void {
    this.#ended = true
    this.#lastError = `forwarder stopped: ${summary(err)}`
  }

  /** How long the store has failed without a break (ms); 0 when it answers. */
  storeFailingFor(): number {
    return this.#storeFailingSince === undefined ? 0 : this.monotonic() - this.#storeFailingSince
  }

  storeFailing(): boolean {
    return this.#storeFailingSince !== undefined
  }

  /** Why the relay should not be ready because of this forwarder; undefined when it may be. */
  notReadyReason(): string | undefined {
    if (this.#ended) return `the forwarder to ${this.sink.target} stopped`
    const failing = this.storeFailingFor()
    if (failing >= this.limits.notReadyAfterMs) {
      return `the forwarder to ${this.sink.target} cannot use the store for ${Math.round(failing / 1000)} s`
    }
    return undefined
  }

  /** True once the store has failed long enough that only a restart can help. */
  mustExit(): boolean {
    return this.storeFailingFor() >= this.limits.exitAfterMs
  }

  status(): DownstreamStatus {
    return {
      kind: this.sink.kind,
      target: this.sink.target,
      services: this.services,
      up: this.#downstreamUp && this.#storeFailingSince === undefined && !this.#ended,
      lastProgressAt: this.#lastProgressAt,
      lastError: this.#lastError,
    }
  }
}

function summary(err: unknown): string {
  const { code, message } = describeFailure(err)
  return `${code}: ${message}`
}
