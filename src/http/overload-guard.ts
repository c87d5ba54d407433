import underPressure from '@fastify/under-pressure'
import type { FastifyInstance } from 'fastify'
import { OVERLOAD } from '../constants.js'
import { OverloadedError } from '../errors.js'

export interface OverloadOptions {
  /** Mean event-loop delay (ms) over one sample past which new requests are refused. */
  readonly maxEventLoopDelayMs: number
  readonly sampleIntervalMs: number
}

/**
 * Past capacity, refuse new webhooks at once with `503` and `Retry-After` instead of queueing them until
 * Tylt's client gives up: Tylt does not retry either way, and a fast refusal shows up in its dashboard
 * (where the merchant can re-send) and in our metrics (outcome `overloaded`), while a timeout may leave the
 * callback half-processed and shows up nowhere. A lagging event loop is the signal: every request waits
 * for it. Register inside the webhook scope, after `observeWebhooks`, so refusals are logged and counted.
 */
export async function overloadGuard(scope: FastifyInstance, options: OverloadOptions = OVERLOAD) {
  await scope.register(underPressure, {
    maxEventLoopDelay: options.maxEventLoopDelayMs,
    sampleInterval: options.sampleIntervalMs,
    pressureHandler: (request) => {
      request.webhook.outcome = 'overloaded'
      return Promise.reject(new OverloadedError())
    },
  })
}
