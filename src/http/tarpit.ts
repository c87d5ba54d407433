import type { Server } from 'node:net'
import { performance } from 'node:perf_hooks'

/** A connection libuv has accepted, before Node makes a socket of it: a TCP handle. */
interface AcceptedHandle {
  getpeername(out: { address?: string }): number
  close(): void
}

/** The listening TCP handle: Node sets its `onconnection`, called with each connection accepted. */
interface ListenHandle {
  onconnection: (this: ListenHandle, status: number, accepted?: AcceptedHandle) => void
}

export interface Tarpit {
  /** Whether connections are being taken as they are accepted (false until `server` listens on TCP). */
  installed(): boolean
  /** How many connections are held now. */
  held(): number
  /** Closes every held connection and gives the listener its own accept back. */
  close(): void
}

/**
 * Holds the connections `server` accepts from an address `refuse` refuses, open and unread, for `holdMs`
 * each, then closes them; past `max` held at once, closes the next ones as soon as they are accepted. They
 * are taken from the listening handle before Node makes a socket of them, so each costs an accept, an
 * address lookup and a close, and nothing else: no socket, no stream, no buffer, no timer of its own (one
 * sweep closes those whose time is up). The HTTP server never sees them.
 *
 * Not read, a held connection's bytes stay in the kernel (its receive buffer at most), and its sender giving
 * up is not seen: the hold is what bounds both. A flood that gives up on each connection sooner comes back
 * at its own pace; one that waits for answers comes back once a `holdMs` per connection.
 *
 * While `armed()` is false (nobody to refuse), a connection is passed on as it is, its address not even
 * looked up. Uses the listening handle's `onconnection`, which Node sets when the server listens (its
 * cluster and `net` modules rely on it); where there is none, nothing is taken and `installed()` says so.
 */
export function holdAtAccept(
  server: Server,
  refuse: (remoteAddress: string | undefined) => boolean,
  { holdMs, max, armed = () => true }: { holdMs: number; max: number; armed?: () => boolean },
): Tarpit {
  // Held in the order they came, each for the same time: the first ones are always the first due.
  let held: { handle: AcceptedHandle; until: number }[] = []
  let first = 0
  let sweep: NodeJS.Timeout | undefined
  let listening: { handle: ListenHandle; accept: ListenHandle['onconnection'] } | undefined
  const closeDue = (now: number) => {
    while (first < held.length && held[first]!.until <= now) held[first++]!.handle.close()
    if (first < held.length) {
      // The closed ones are dropped from the front now and then, not one by one.
      if (first >= 1_024) {
        held = held.slice(first)
        first = 0
      }
      return
    }
    held = []
    first = 0
    clearInterval(sweep)
    sweep = undefined
  }
  const install = () => {
    const handle = (server as { _handle?: Partial<ListenHandle> | null })._handle
    if (typeof handle?.onconnection !== 'function') return
    const accept = handle.onconnection
    listening = { handle: handle as ListenHandle, accept }
    handle.onconnection = function (status, accepted) {
      if (armed() && status === 0 && typeof accepted?.getpeername === 'function') {
        const peer: { address?: string } = {}
        if (accepted.getpeername(peer) === 0 && refuse(peer.address)) {
          if (held.length - first >= max) {
            accepted.close()
            return
          }
          held.push({ handle: accepted, until: performance.now() + holdMs })
          sweep ??= setInterval(() => closeDue(performance.now()), Math.min(100, holdMs)).unref()
          return
        }
      }
      accept.call(this, status, accepted)
    }
  }
  if (server.listening) install()
  else server.once('listening', install)
  return {
    installed: () => listening !== undefined,
    held: () => held.length - first,
    close: () => {
      server.off('listening', install)
      if (listening !== undefined) listening.handle.onconnection = listening.accept
      listening = undefined
      closeDue(Number.POSITIVE_INFINITY)
    },
  }
}
