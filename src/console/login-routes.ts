import type { FastifyInstance } from 'fastify'
import { type ConsoleAuth, csrfRefused, refuseForm, sameOrigin, sessionCookie } from './console-auth.js'
import { CONSOLE } from './console-settings.js'
import { loginPage, P } from './layout.js'

const HTML = 'text/html; charset=utf-8'

/** The login form, its post (the token, once, for a session cookie) and logout. */
export function loginRoutes(app: FastifyInstance, auth: ConsoleAuth): void {
  app.get(`${P}/login`, async (request, reply) =>
    auth.access(request) === undefined ? reply.type(HTML).send(loginPage(false)) : reply.redirect(P, 303),
  )
  app.post(`${P}/login`, async (request, reply) => {
    const token = (request.body as Record<string, unknown> | null)?.token
    if (!sameOrigin(request) || typeof token !== 'string' || !auth.tokenMatches(token)) {
      request.log.warn({ source: request.ip }, 'console: login refused')
      return reply.code(401).type(HTML).send(loginPage(true))
    }
    const session = auth.sessions.create()
    request.log.info({ source: request.ip }, 'console: operator logged in')
    return reply
      .header('set-cookie', sessionCookie(session.id, CONSOLE.sessionMaxMs, request.protocol === 'https'))
      .redirect(P, 303)
  })
  app.post(`${P}/logout`, async (request, reply) => {
    const access = auth.access(request)
    if (access !== undefined && access !== 'refused' && access.session !== undefined) {
      if (csrfRefused(request, access)) return refuseForm(request, reply)
      auth.sessions.delete(access.session.id)
    }
    return reply
      .header('set-cookie', sessionCookie('', 0, request.protocol === 'https'))
      .redirect(`${P}/login`, 303)
  })
}
