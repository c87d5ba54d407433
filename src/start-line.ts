import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import type { Config } from './config/load-config.js'
import type { PlannedDownstream } from './forward/downstream-plan.js'

function origin(app: FastifyInstance): string {
  const address = app.server.address() as AddressInfo | string | null
  if (address === null || typeof address === 'string') return String(address)
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return `http://${host}:${address.port}`
}

/**
 * The line a relay logs once it serves: each listener, and each downstream's kind, target (credentials
 * masked: the targets are parse-forward-url's redacted form) and services. Said in the message as well as
 * in fields, so that it reads the same in a terminal and in a log search.
 */
export function startLine(
  config: Config,
  plan: readonly PlannedDownstream[],
  app: FastifyInstance,
  ops: FastifyInstance,
): { message: string; fields: Record<string, unknown> } {
  const webhooks = origin(app)
  const operations = origin(ops)
  const downstreams = plan.map((d) => ({ kind: d.kind, target: d.target, services: d.services ?? 'others' }))
  const described =
    downstreams.length === 0
      ? 'no downstream (events stay in the store)'
      : downstreams
          .map(
            (d) => `${d.kind} ${d.target}${Array.isArray(d.services) ? ` for ${d.services.join(', ')}` : ''}`,
          )
          .join('; ')
  return {
    message: `tylt-relay ready: webhooks on ${webhooks}, operations on ${operations}, forwarding to ${described}`,
    fields: {
      webhooks,
      operations,
      services: config.services.map((s) => s.name),
      downstreams,
      downstream: plan.length === 0 ? 'embedded' : plan.map((d) => d.kind).join(','),
    },
  }
}
