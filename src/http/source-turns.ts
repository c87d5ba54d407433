import type { FastifyInstance } from 'fastify'
import { SOURCE_TURNS } from '../constants.js'
import { addressKey } from '../verify/failure-limiter.js'

export type SourceTurnOptions = { readonly [K in keyof typeof SOURCE_TURNS]: number }

/**
 * Which webhook requests go first when the event loop is shared. A source is trusted once a request from it
 * verified, until one from it is refused (401 or 404) or `trustMs` passes; its requests are handled as they
 * come. A request from any other source waits for its turn: one such request is let in per turn of the event
 * loop, round robin across sources (in order within one). A request that is let in runs to its answer with
 * nothing held (its body is read, verified and answered as any other), so a slow sender delays nobody.
 *
 * Why: a genuine callback takes several turns of the event loop (read, verify, commit, answer), a small
 * forgery one. With 32 connections sending forgeries as fast as they are answered, every one of those turns
 * would otherwise also handle a forgery per connection, and a callback would wait for a few rounds of 32
 * forgeries (up to 120 ms measured) before the overload guard starts shedding; let in one at a time, it waits
 * for a few forgeries. An untrusted genuine callback (a new Tylt address, a rotation mistake) is never
 * refused for this: it waits for its round, one request of each other waiting source. Memory is bounded:
 * at most `addresses` trusted sources, the one verified least recently forgotten first. A request whose
 * sender has gone by its turn (its connection closed) is dropped, not let in, and the turn goes to the
 * next: a flood that gives up on its requests would otherwise fill the turns with requests nobody waits
 * for, each costing a turn, while its next ones queue behind them (65,000 waiting after 16 s of a
 * pipelined flood on a busy machine, nine in ten of them gone). What waits is then what live connections
 * have sent.
 */
export class SourceTurns {
  readonly #options: SourceTurnOptions
  readonly #now: () => number
  /** Trusted source keys, by when a request of theirs last verified; the first is the stalest. */
  readonly #trusted = new Map<string, number>()
  /** Requests waiting to be let in, per source key, round robin in the map's order. */
  readonly #waiting = new Map<string, Waiter[]>()
  #scheduled = false
  /** Called for each request dropped at its turn because its sender had gone. */
  readonly #onAbandoned: () => void

  constructor(
    options: SourceTurnOptions = SOURCE_TURNS,
    now: () => number = Date.now,
    onAbandoned: () => void = () => {},
  ) {
    this.#options = options
    this.#now = now
    this.#onAbandoned = onAbandoned
  }

  /** A request from `ip` verified: its source's next requests are let in at once. */
  verified(ip: string): void {
    const key = addressKey(ip)
    this.#trusted.delete(key)
    if (this.#trusted.size >= this.#options.addresses) {
      const stalest = this.#trusted.keys().next().value
      if (stalest !== undefined) this.#trusted.delete(stalest)
    }
    this.#trusted.set(key, this.#now())
  }

  /** A request from `ip` was refused: its source waits for turns again. */
  refused(ip: string): void {
    this.#trusted.delete(addressKey(ip))
  }

  trusted(ip: string): boolean {
    const key = addressKey(ip)
    const at = this.#trusted.get(key)
    if (at === undefined) return false
    if (this.#now() - at < this.#options.trustMs) return true
    this.#trusted.delete(key)
    return false
  }

  /** Requests waiting to be let in now. */
  get waiting(): number {
    let count = 0
    for (const queue of this.#waiting.values()) count += queue.length
    return count
  }

  /** Calls `go` now for a trusted source, otherwise on its turn, unless `connection` is destroyed by then. */
  admit(ip: string, go: () => void, connection: Connection = OPEN): void {
    if (this.trusted(ip)) {
      go()
      return
    }
    const key = addressKey(ip)
    const queue = this.#waiting.get(key)
    if (queue === undefined) this.#waiting.set(key, [{ go, connection }])
    else queue.push({ go, connection })
    this.#schedule()
  }

  /** The next turn is from setImmediate: after the I/O that is pending now (trusted requests) is handled. */
  #schedule(): void {
    if (this.#scheduled) return
    this.#scheduled = true
    setImmediate(this.#letIn)
  }

  readonly #letIn = (): void => {
    this.#scheduled = false
    for (;;) {
      const next = this.#waiting.entries().next().value
      if (next === undefined) return
      const [key, queue] = next
      const waiter = queue.shift()!
      // The source goes to the back of the round with whatever it still has waiting.
      this.#waiting.delete(key)
      if (queue.length > 0) this.#waiting.set(key, queue)
      if (waiter.connection.destroyed) {
        this.#onAbandoned()
        continue
      }
      if (this.#waiting.size > 0) this.#schedule()
      waiter.go()
      return
    }
  }
}

/** The connection a request came on: destroyed once its sender has closed it. */
interface Connection {
  readonly destroyed: boolean
}

const OPEN: Connection = { destroyed: false }

/** A request waiting for its turn: what lets it in, and the connection its sender may have closed since. */
interface Waiter {
  readonly go: () => void
  readonly connection: Connection
}

/**
 * Lets each webhook request in through `turns`. Register inside the webhook scope after the overload guard,
 * so that what it sheds is shed before waiting for a turn.
 */
export function takeTurns(scope: FastifyInstance, turns: SourceTurns) {
  scope.addHook('onRequest', (request, _reply, done) => turns.admit(request.ip, done, request.raw.socket))
}
