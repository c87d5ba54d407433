import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { TEXT_PLAIN } from '../constants.js'
import { CONSOLE_CSS, CONSOLE_ICON, CONSOLE_JS } from './console-assets.js'
import { type Access, ConsoleAuth, csrfRefused, refuseForm } from './console-auth.js'
import type { Answer, ConsoleDeps, Handler } from './console-deps.js'
import { consoleRoutes } from './console-routes.js'
import { CONSOLE } from './console-settings.js'
import { P, type PageContext } from './layout.js'
import { loginRoutes } from './login-routes.js'
import type { JsonHandler } from './screen.js'
import { SessionStore } from './session-store.js'
import { SlotWatch } from './slot-watch.js'

const HTML = 'text/html; charset=utf-8'

/**
 * No script but ours, no connection but to the relay, no framing, no referrer to other sites, no caching of
 * pages that hold payment data.
 */
function securityHeaders(_request: FastifyRequest, reply: FastifyReply, done: () => void) {
  reply.headers({
    'content-security-policy':
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    // Not no-referrer: Chromium then sends `Origin: null` on the console's own form posts.
    'referrer-policy': 'same-origin',
    'cache-control': 'no-store',
  })
  done()
}

function contextOf(access: Access, quarantine: boolean, orders: boolean): PageContext {
  const flash = access.session?.flash
  if (access.session !== undefined) access.session.flash = undefined
  return { csrf: access.session?.csrf, flash, quarantine, orders }
}

function send(reply: FastifyReply, access: Access, answer: Answer) {
  if ('page' in answer)
    return reply
      .code(answer.status ?? 200)
      .type(HTML)
      .send(answer.page)
  // A script gets the outcome as text; a browser gets it on the next page (POST, redirect, GET).
  if (answer.flash === undefined) return reply.redirect(answer.to, 303)
  if (access.session === undefined) return reply.type(TEXT_PLAIN).send(answer.flash)
  access.session.flash = answer.flash
  return reply.redirect(answer.to, 303)
}

/** Pages and actions behind the login; actions also behind the CSRF check. */
function guards(auth: ConsoleAuth, quarantine: boolean, orders: boolean) {
  const view = (handler: Handler) => async (request: FastifyRequest, reply: FastifyReply) => {
    const access = auth.access(request)
    if (access === 'refused') return reply.code(401).type(TEXT_PLAIN).send('wrong token')
    if (access === undefined) return reply.redirect(`${P}/login`, 303)
    return send(reply, access, await handler(request, contextOf(access, quarantine, orders)))
  }
  const action = (handler: Handler) => async (request: FastifyRequest, reply: FastifyReply) => {
    const access = auth.access(request)
    if (access === 'refused' || access === undefined)
      return reply.code(401).type(TEXT_PLAIN).send('log in first')
    if (csrfRefused(request, access)) return refuseForm(request, reply)
    return send(reply, access, await handler(request, contextOf(access, quarantine, orders)))
  }
  // A script without the token gets 401 here, not the login page: it cannot fill a form.
  const json = (handler: JsonHandler) => async (request: FastifyRequest, reply: FastifyReply) => {
    const access = auth.access(request)
    if (access === 'refused' || access === undefined)
      return reply
        .code(401)
        .send({ error: 'unauthorized', message: 'send Authorization: Bearer <OPS_TOKEN>' })
    if (request.method === 'POST' && csrfRefused(request, access)) return refuseForm(request, reply)
    const answer = await handler(request)
    return reply.code(answer.status ?? 200).send(answer.body)
  }
  return { view, action, json }
}

function assetRoutes(app: FastifyInstance) {
  const asset = (name: string, type: string, text: string) =>
    app.get(`${P}/assets/${name}`, async (_request, reply) =>
      reply.header('cache-control', 'max-age=3600').type(type).send(text),
    )
  asset('console.css', 'text/css; charset=utf-8', CONSOLE_CSS)
  asset('console.js', 'text/javascript; charset=utf-8', CONSOLE_JS)
  asset('icon.svg', 'image/svg+xml', CONSOLE_ICON)
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
  assetRoutes(app)
  loginRoutes(app, auth)
  consoleRoutes(app, {
    deps,
    slots,
    ...guards(auth, deps.quarantine !== undefined, deps.orders !== undefined),
  })
}
