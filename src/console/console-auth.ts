import { createHash, type KeyObject, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { TEXT_PLAIN } from '../constants.js'
import { CONSOLE } from './console-settings.js'
import type { Session, SessionStore } from './session-store.js'

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest()

/** Equal strings, compared in constant time; hashing first makes lengths equal without revealing them. */
export function constantTimeEqual(expected: Buffer, given: string): boolean {
  return timingSafeEqual(sha256(expected), sha256(Buffer.from(given, 'utf8')))
}

/** Who is asking: a browser with a session, or a script with the token in `Authorization: Bearer`. */
export type Access = { readonly session: Session } | { readonly session: undefined }

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const [key, ...value] = part.trim().split('=')
    if (key === name) return value.join('=')
  }
  return undefined
}

export class ConsoleAuth {
  readonly #token: Buffer
  readonly sessions: SessionStore

  constructor(token: KeyObject, sessions: SessionStore) {
    this.#token = token.export()
    this.sessions = sessions
  }

  tokenMatches(given: string): boolean {
    return constantTimeEqual(this.#token, given)
  }

  /**
   * The access this request carries: undefined when it carries none, `refused` for an `Authorization`
   * header that is not the token (a script's mistake must not fall back to a browser's cookie).
   */
  access(request: FastifyRequest): Access | 'refused' | undefined {
    const authorization = request.headers.authorization
    if (authorization !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization)
      return match !== null && this.tokenMatches(match[1]!) ? { session: undefined } : 'refused'
    }
    const session = this.sessions.get(cookie(request.headers.cookie, CONSOLE.cookie))
    return session === undefined ? undefined : { session }
  }
}

/**
 * Whether a state-changing request comes from the console's own pages. Browsers send `Origin` on every POST
 * and `Sec-Fetch-Site` too; either naming another origin is a cross-site request (another port on the same
 * host is same-site, so SameSite cookies alone do not stop it).
 */
export function sameOrigin(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site']
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false
  const origin = request.headers.origin
  return origin === undefined || origin === `${request.protocol}://${request.host}`
}

/** The form's `_csrf` field is the session's token. */
export function csrfMatches(session: Session, body: unknown): boolean {
  const given = (body as Record<string, unknown> | null)?._csrf
  return typeof given === 'string' && constantTimeEqual(Buffer.from(session.csrf, 'utf8'), given)
}

export function sessionCookie(id: string, maxAgeMs: number, secure: boolean): string {
  const seconds = Math.floor(maxAgeMs / 1000)
  return `${CONSOLE.cookie}=${id}; Path=${CONSOLE.prefix}; Max-Age=${seconds}; HttpOnly; SameSite=Strict${
    secure ? '; Secure' : ''
  }`
}

/** A bearer token is never sent by a browser on its own, so only cookie sessions need the CSRF proof. */
export const csrfRefused = (request: FastifyRequest, access: Access): boolean =>
  access.session !== undefined && !(sameOrigin(request) && csrfMatches(access.session, request.body))

export function refuseForm(request: FastifyRequest, reply: FastifyReply) {
  request.log.warn({ path: request.url }, 'console: refused a form post without its CSRF token')
  return reply.code(403).type(TEXT_PLAIN).send('refused: this form did not come from the console')
}
