import type { RelayEvent } from '../../core/event.js'
import type { SendResult, Sink, SinkKind } from '../../core/sink.js'
import { DEFAULT_SEND_TIMEOUT_MS } from '../headers.js'
import { codeOf, deliveryError, systemCode } from './delivery-error.js'
import { boundedCheck } from './readiness.js'

/**
 * The shape the broker downstreams (AMQP, NATS) share: one link (a connection and what is opened on it),
 * made on first use and kept until it breaks, and batches sent one after another in the order they were
 * given. Batches must not interleave: confirms, returns and acks of two batches would mix, and so would
 * their order on the broker. `close` waits for the batch in flight, then closes the link.
 */
export abstract class SerialSink<Link> implements Sink {
  abstract readonly kind: SinkKind
  readonly target: string
  protected readonly timeoutMs: number
  #link: Link | undefined
  #tail: Promise<unknown> = Promise.resolve()

  constructor(target: string, timeoutMs: number | undefined) {
    this.target = target
    this.timeoutMs = timeoutMs ?? DEFAULT_SEND_TIMEOUT_MS
  }

  send(events: readonly RelayEvent[], signal?: AbortSignal): Promise<SendResult> {
    return this.#serially(() => this.#send(events, signal))
  }

  /** Opens the link (in turn with sends, so that both use one) and asks the subclass what it sees. */
  check(): Promise<string | undefined> {
    const what = `${this.kind.toUpperCase()} downstream ${this.target}`
    return boundedCheck(what, () =>
      this.#serially(async () => {
        let link: Link
        try {
          link = await this.open()
        } catch (err) {
          return `${what}: ${err instanceof Error ? err.message : String(err)}`
        }
        const warning = await this.readiness(link)
        return warning === undefined ? undefined : `${what}: ${warning}`
      }),
    )
  }

  async close(): Promise<void> {
    await this.#tail
    const link = this.#link
    this.#link = undefined
    if (link !== undefined) await this.closeLink(link).catch(() => undefined)
  }

  /** Opens the link, publishes a batch on it, closes it: what a subclass provides. */
  protected abstract connect(): Promise<Link>
  protected abstract publish(
    link: Link,
    events: readonly RelayEvent[],
    signal: AbortSignal | undefined,
  ): Promise<SendResult>
  protected abstract closeLink(link: Link): Promise<void>
  /** What would keep an open link from taking events (a stream missing), or undefined. */
  protected abstract readiness(link: Link): Promise<string | undefined>

  /** The link in use, opened now when there is none. */
  protected async open(): Promise<Link> {
    if (this.#link !== undefined) return this.#link
    const link = await this.connect()
    this.#link = link
    return link
  }

  /** Forgets a link that broke or closed; the next send connects again. */
  protected forget(link: Link): void {
    if (this.#link === link) this.#link = undefined
  }

  #serially<T>(call: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(call)
    this.#tail = result.catch(() => undefined)
    return result
  }

  async #send(events: readonly RelayEvent[], signal: AbortSignal | undefined): Promise<SendResult> {
    if (events.length === 0) return { delivered: 0 }
    if (signal?.aborted === true) return { delivered: 0, error: abortedError(signal) }
    let link: Link
    try {
      link = await this.open()
    } catch (err) {
      if (err instanceof Error && codeOf(err) !== undefined) return { delivered: 0, error: err }
      const message = err instanceof Error ? err.message : String(err)
      return { delivered: 0, error: deliveryError(systemCode(err) ?? 'ERROR', message, err) }
    }
    return this.publish(link, events, signal)
  }
}

/** The error a send reports for what it did not confirm because it was told to stop. */
export function abortedError(signal: AbortSignal): Error {
  return deliveryError('STOPPED', 'sending was stopped (the relay is shutting down)', signal.reason)
}
