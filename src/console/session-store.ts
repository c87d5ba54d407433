import { randomBytes } from 'node:crypto'
import { CONSOLE } from './console-settings.js'

/** A logged-in browser. Kept in memory only: a restart logs everyone out, which is the safe direction. */
export interface Session {
  /** The cookie's value: random, never derived from the token. */
  readonly id: string
  /** Sent back in every form as a hidden field; a cross-site page cannot read it. */
  readonly csrf: string
  readonly createdAt: number
  lastSeenAt: number
  /** A one-time message for the next page: what the last action did. */
  flash: string | undefined
}

const token = () => randomBytes(32).toString('base64url')

/** The console's sessions: created at login, ended by logout, idleness or age. */
export class SessionStore {
  readonly #sessions = new Map<string, Session>()
  readonly #now: () => number

  constructor(now: () => number = Date.now) {
    this.#now = now
  }

  create(): Session {
    const now = this.#now()
    this.#sweep(now)
    if (this.#sessions.size >= CONSOLE.maxSessions) {
      const oldest = this.#sessions.keys().next().value
      if (oldest !== undefined) this.#sessions.delete(oldest)
    }
    const session: Session = { id: token(), csrf: token(), createdAt: now, lastSeenAt: now, flash: undefined }
    this.#sessions.set(session.id, session)
    return session
  }

  /** The live session with this id, its idle clock restarted; undefined when unknown or expired. */
  get(id: string | undefined): Session | undefined {
    if (id === undefined) return undefined
    const session = this.#sessions.get(id)
    if (session === undefined) return undefined
    const now = this.#now()
    if (this.#expired(session, now)) {
      this.#sessions.delete(id)
      return undefined
    }
    session.lastSeenAt = now
    return session
  }

  delete(id: string): void {
    this.#sessions.delete(id)
  }

  get size(): number {
    return this.#sessions.size
  }

  #expired(session: Session, now: number): boolean {
    return now - session.lastSeenAt > CONSOLE.sessionIdleMs || now - session.createdAt > CONSOLE.sessionMaxMs
  }

  #sweep(now: number): void {
    for (const [id, session] of this.#sessions) if (this.#expired(session, now)) this.#sessions.delete(id)
  }
}
