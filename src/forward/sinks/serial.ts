/**
 * Runs asynchronous calls one after another, in the order they were made. A sink's batches must not
 * interleave: confirms, returns and acks of two batches would mix, and so would their order on the broker.
 */
export class Serial {
  #tail: Promise<unknown> = Promise.resolve()

  run<T>(call: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(call)
    this.#tail = result.catch(() => undefined)
    return result
  }

  /** Resolves once every call made so far has settled. */
  async idle(): Promise<void> {
    await this.#tail
  }
}
