import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { CONSOLE } from '../constants.js'
import { CONSOLE_CSS, CONSOLE_JS } from './console-assets.js'
import { type Access, ConsoleAuth, csrfMatches, sameOrigin, sessionCookie } from './console-auth.js'
import type { Answer, ConsoleDeps, Handler } from './console-deps.js'
import { consoleRoutes } from './console-routes.js'
import { loginPage, P, type PageContext } from './layout.js'
import { SessionStore } from './session-store.js'
import { SlotWatch } from './slot-watch.js'

const HTML = 'text/html; charset=utf-8'
const TEXT = 'text/plain; charset=utf-8'

/** No script but ours, no framing, no referrer, no caching of pages that hold payment data. */
function securityHeaders(_request: FastifyRequest, reply: FastifyReply, done: () => void) {
  reply.headers({
    'content-security-policy':
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    // Not no-referrer: Chromium then sends `Origin: null` on the console's own form posts.
    'referrer-policy': 'same-origin',
    'cache-control': 'no-store',
  })
  done()
}

function contextOf(access: Access, quarantine: boolean): PageContext {
  const flash = access.session?.flash
  if (access.session !== undefined) access.session.flash = undefined
  return { csrf: access.session?.csrf, flash, quarantine }
}

function send(reply: FastifyReply, access: Access, answer: Answer) {
  if ('page' in answer)
    return reply
      .code(answer.status ?? 200)
      .type(HTML)
      .send(answer.page)
  // A script gets the outcome as text; a browser gets it on the next page (POST, redirect, GET).
  if (access.session === undefined) return reply.type(TEXT).send(answer.flash)
  access.session.flash = answer.flash
  return reply.redirect(answer.to, 303)
}

/** A bearer token is never sent by a browser on its own, so only cookie sessions need the CSRF proof. */
const refusedPost = (request: FastifyRequest, access: Access) =>
  access.session !== undefined && !(sameOrigin(request) && csrfMatches(access.session, request.body))

function refuse(request: FastifyRequest, reply: FastifyReply) {
  request.log.warn({ path: request.url }, 'console: refused a form post without its CSRF token')
  return reply.code(403).type(TEXT).send('refused: this form did not come from the console')
}

/** The operator's console, under /console on the ops listener (docs/console.md). */
export async function consolePlugin(app: FastifyInstance, deps: ConsoleDeps): Promise<void> {
  const auth = new ConsoleAuth(deps.token, new SessionStore(deps.now))
  const slots = deps.registry === undefined ? undefined : new SlotWatch(deps.registry, deps.now)
  slots?.start(CONSOLE.slotSampleMs)
  app.addHook('onClose', async () => slots?.stop())
  app.addHook('onRequest', securityHeaders)
  app.removeAllContentTypeParsers()
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: CONSOLE.formLimit },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  )
  const quarantine = deps.quarantine !== undefined

  const view = (handler: Handler) => async (request: FastifyRequest, reply: FastifyReply) => {
    const access = auth.access(request)
    if (access === 'refused') return reply.code(401).type(TEXT).send('wrong token')
    if (access === undefined) return reply.redirect(`${P}/login`, 303)
    return send(reply, access, await handler(request, contextOf(access, quarantine)))
  }
  const action = (handler: Handler) => async (request: FastifyRequest, reply: FastifyReply) => {
    const access = auth.access(request)
    if (access === 'refused' || access === undefined) return reply.code(401).type(TEXT).send('log in first')
    if (refusedPost(request, access)) return refuse(request, reply)
    return send(reply, access, await handler(request, contextOf(access, quarantine)))
  }

  app.get(`${P}/assets/console.css`, async (_r, reply) =>
    reply.header('cache-control', 'max-age=3600').type('text/css; charset=utf-8').send(CONSOLE_CSS),
  )
  app.get(`${P}/assets/console.js`, async (_r, reply) =>
    reply.header('cache-control', 'max-age=3600').type('text/javascript; charset=utf-8').send(CONSOLE_JS),
  )
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
      if (refusedPost(request, access)) return refuse(request, reply)
      auth.sessions.delete(access.session.id)
    }
    return reply
      .header('set-cookie', sessionCookie('', 0, request.protocol === 'https'))
      .redirect(`${P}/login`, 303)
  })
  consoleRoutes(app, { deps, slots, view, action })
}
