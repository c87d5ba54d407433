import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Answer, Handler } from './console-deps.js'
import { messagePage, P, type PageContext } from './layout.js'

type Route = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>

/** What a JSON route answers: its status and body. */
export interface JsonAnswer {
  readonly status?: number
  readonly body: unknown
}
export type JsonHandler = (request: FastifyRequest) => Promise<JsonAnswer>

/** What a read found: the data both views show, or why there is none (a 404 in words). */
export type Loaded<T> = { readonly data: T } | { readonly missing: string }

/** What an action did: a message, the page to show next, and the same in fields for a script. */
export type Done =
  | { readonly flash: string; readonly to: string; readonly result: Readonly<Record<string, unknown>> }
  | { readonly missing: string }

export interface RouteKit {
  /** A page behind the login. */
  readonly view: (handler: Handler) => Route
  /** A state-changing POST behind the login and the CSRF check. */
  readonly action: (handler: Handler) => Route
  /** A JSON answer behind the same login (a session, or the token as `Authorization: Bearer`). */
  readonly json: (handler: JsonHandler) => Route
}

const notFound = (ctx: PageContext, what: string): Answer => ({
  page: messagePage('Not found', ctx, what),
  status: 404,
})

/**
 * One read served twice from one function: `load` computes the data, the page at `/console<path>` renders it
 * as HTML and `/console/api<path>` answers it as JSON, so the two cannot disagree.
 */
export function screen<T>(
  app: FastifyInstance,
  kit: RouteKit,
  path: string,
  load: (request: FastifyRequest) => Promise<Loaded<T>>,
  views: {
    readonly page: (data: T, ctx: PageContext, request: FastifyRequest) => string | Promise<string>
    readonly json: (data: T) => unknown | Promise<unknown>
  },
): void {
  app.get(
    `${P}${path}`,
    kit.view(async (request, ctx) => {
      const loaded = await load(request)
      if ('missing' in loaded) return notFound(ctx, loaded.missing)
      return { page: await views.page(loaded.data, ctx, request) }
    }),
  )
  app.get(
    `${P}/api${path}`,
    kit.json(async (request) => {
      const loaded = await load(request)
      if ('missing' in loaded) return { status: 404, body: { error: 'not_found', message: loaded.missing } }
      return { body: await views.json(loaded.data) }
    }),
  )
}

/** One action served twice: a form post that shows its message on the next page, and a JSON POST. */
export function command(
  app: FastifyInstance,
  kit: RouteKit,
  path: string,
  run: (request: FastifyRequest) => Promise<Done>,
): void {
  app.post(
    `${P}${path}`,
    kit.action(async (request, ctx) => {
      const done = await run(request)
      return 'missing' in done ? notFound(ctx, done.missing) : { flash: done.flash, to: done.to }
    }),
  )
  app.post(
    `${P}/api${path}`,
    kit.json(async (request) => {
      const done = await run(request)
      if ('missing' in done) return { status: 404, body: { error: 'not_found', message: done.missing } }
      return { body: { message: done.flash, ...done.result } }
    }),
  )
}
