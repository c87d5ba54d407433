/**
 * The forwarder's waits (backoff, idle poll, gathering): one at a time, ended early by `wake` (new events,
 * a stop) and for good by `abort` (a stop), after which every wait returns at once.
 */
export class Pause {
  readonly #abort = new AbortController()
  #wake: (() => void) | undefined

  /** Aborts the send in flight as well: the sink gets this signal. */
  get signal(): AbortSignal {
    return this.#abort.signal
  }

  sleep(ms: number): Promise<void> {
    const signal = this.#abort.signal
    if (signal.aborted) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        this.#wake = undefined
        resolve()
      }
      const timer = setTimeout(done, ms)
      signal.addEventListener('abort', done)
      this.#wake = done
    })
  }

  /** Ends the current wait, if any. */
  wake(): void {
    this.#wake?.()
  }

  abort(): void {
    this.#abort.abort()
  }
}
