import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { MAX_LARGE_IN_FLIGHT, OVERLOAD, SUSPECT_MAX_BODY } from '../constants.js'
import { OverloadedError } from '../errors.js'
import { addressKey, type FailureLimiter } from '../verify/failure-limiter.js'
import { holdAtAccept } from './tarpit.js'

export interface OverloadOptions {
  /** Mean event-loop delay (ms) over one sample past which new requests are refused. */
  readonly maxEventLoopDelayMs: number
  readonly sampleIntervalMs: number
  /** Event-loop utilisation (0-1) over one sample past which requests from suspect sources are shed. */
  readonly suspectMaxUtilization?: number
  /** How long suspects stay shed after the last one was; the cost they would bring back is what tripped it. */
  readonly suspectHoldMs?: number
  /** How long a shed suspect's answer is held back, and for how many requests at once at most. */
  readonly suspectDelayMs?: number
  readonly maxHeld?: number
  /** How many of a shed suspect's new connections are held open unread at once at most, and how long each. */
  readonly maxHeldConnections?: number
  readonly connectionHoldMs?: number
}

/** A body declared larger than any callback. */
const declaredLarge = (declared: string | undefined) =>
  declared !== undefined && Number(declared) > SUSPECT_MAX_BODY

/**
 * Answers a suspect's request 503 and closes its connection as soon as the answer is out, the rest of its
 * body unread: draining it would cost the reads. Returns the error to hand to Fastify.
 */
export function shedSuspect(request: FastifyRequest, reply: FastifyReply): Error {
  request.webhook.outcome = 'overloaded'
  reply.header('connection', 'close')
  reply.raw.once('finish', () => request.raw.socket?.destroy())
  return SHED
}

/** One error for every shed request: a flood would otherwise pay for a stack trace per request. */
const SHED = new OverloadedError()

/**
 * Admits a request with a body larger than any callback unless its source already has MAX_LARGE_IN_FLIGHT
 * of them in flight. No genuine callback is that large; a flood's first wave is, and arrives before any of
 * it was refused, so this bounds what the wave costs before the failure limiter knows the source.
 */
function admitLarge(inFlight: Map<string, number>, request: FastifyRequest, reply: FastifyReply): boolean {
  const key = addressKey(request.ip)
  const count = inFlight.get(key) ?? 0
  if (count >= MAX_LARGE_IN_FLIGHT) return false
  inFlight.set(key, count + 1)
  reply.raw.once('close', () => {
    const left = (inFlight.get(key) ?? 1) - 1
    if (left <= 0) inFlight.delete(key)
    else inFlight.set(key, left)
  })
  return true
}

/** Histogram resolution (ms) of the event-loop delay monitor; subtracted from its mean, as it is the floor. */
const RESOLUTION_MS = 10

/**
 * Past capacity, refuse new webhooks at once with `503` and `Retry-After` instead of queueing them until
 * Tylt's client gives up: Tylt does not retry either way, and a fast refusal shows up in its dashboard
 * (where the merchant can re-send) and in our metrics (outcome `overloaded`), while a timeout may leave the
 * callback half-processed and shows up nowhere. A lagging event loop is the signal: every request waits
 * for it.
 *
 * Before that, suspects go first: a request from a source recently past its failure limit (the limiter's
 * suspects) is answered 503 before a byte of its body is read, and its connection closed, when its body
 * is larger than any callback (SUSPECT_MAX_BODY), or whatever its size while the event loop is busy
 * (`suspectMaxUtilization`), when its new connections are held unread too (a tarpit). A flood of forgeries then
 * stops costing verification while callbacks from other sources are served as usual; a small genuine
 * callback from a suspect's address (a shared NAT, or Tylt's own address during a rotation mistake) is
 * still verified while the relay has time for it. Register inside the webhook scope, after `observeWebhooks`, so
 * refusals are logged and counted.
 */
export async function overloadGuard(
  scope: FastifyInstance,
  options: OverloadOptions = OVERLOAD,
  limiter?: FailureLimiter,
  onConnectionRefused: () => void = () => {},
) {
  const maxUtilization = options.suspectMaxUtilization ?? OVERLOAD.suspectMaxUtilization
  const holdMs = options.suspectHoldMs ?? OVERLOAD.suspectHoldMs
  const delayMs = options.suspectDelayMs ?? OVERLOAD.suspectDelayMs
  const maxHeld = options.maxHeld ?? OVERLOAD.maxHeld
  const maxHeldConnections = options.maxHeldConnections ?? OVERLOAD.maxHeldConnections
  const connectionHoldMs = options.connectionHoldMs ?? OVERLOAD.connectionHoldMs
  let held = 0
  /** Requests with a large body in flight, per source address. */
  const largeInFlight = new Map<string, number>()
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
  histogram.enable()
  let lagging = false
  let busyUntil = 0
  let shedding = false
  let lastShedAt = 0
  let utilization = performance.eventLoopUtilization()
  const sample = setInterval(() => {
    // No sample at all means the loop never got round to the monitor's timer in the whole sample: it lagged
    // by that much at least, judged like any other lag (a process descheduled for one short sample is not
    // lagging past a long limit).
    const lag = histogram.count === 0 ? options.sampleIntervalMs : histogram.mean / 1e6 - RESOLUTION_MS
    histogram.reset()
    lagging = lag > options.maxEventLoopDelayMs
    const now = performance.eventLoopUtilization()
    const busy = performance.eventLoopUtilization(now, utilization).utilization > maxUtilization
    utilization = now
    const at = Date.now()
    if (busy || lagging) busyUntil = at + options.sampleIntervalMs
    shedding = limiter !== undefined && (at < busyUntil || at - lastShedAt < holdMs)
  }, options.sampleIntervalMs)
  sample.unref()
  // While suspects are shed, a new connection from one (a flood that does not wait for its held answers,
  // or comes back after its connection was closed) would cost an HTTP parse, an answer and a log line per
  // request, as much as a small forgery costs verified. It never reaches the HTTP server: it is held open
  // unread (a tarpit, src/http/tarpit.ts) for `connectionHoldMs`, then closed. Closing it at once would
  // cost less per connection but invite the next one at once: a flood that reconnects as fast as it can
  // then costs the relay an accept and a close per attempt, thousands a second; held, each of its
  // connections costs one accept per hold, or per timeout of its own. Past `maxHeldConnections` held at
  // once they are closed at once instead. Counted either way. Holding one also keeps the shedding going,
  // since letting the source back in is what would make the loop busy again.
  const tarpit = holdAtAccept(
    scope.server,
    (ip) => {
      if (limiter === undefined || ip === undefined || !limiter.suspect(ip)) return false
      onConnectionRefused()
      lastShedAt = Date.now()
      return true
    },
    {
      holdMs: connectionHoldMs,
      max: maxHeldConnections,
      armed: () => shedding && limiter?.anySuspect() === true,
    },
  )
  scope.addHook('onClose', (_instance, done) => {
    tarpit.close()
    clearInterval(sample)
    histogram.disable()
    done()
  })
  scope.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
    if (lagging) {
      request.webhook.outcome = 'overloaded'
      return done(new OverloadedError())
    }
    const declared = request.headers['content-length']
    const declaresLarge = declaredLarge(declared)
    // A body of unknown length (chunked) counts as large from a suspect, not from anyone else: nothing says
    // how Tylt frames its bodies, so only a declared length bounds a first wave.
    const large = declared === undefined || declaresLarge
    const crowded = declaresLarge && !admitLarge(largeInFlight, request, reply)
    const suspect = !crowded && limiter?.anySuspect() === true && limiter.suspect(request.ip)
    if (!crowded && !suspect) return done()
    const shed = crowded || shedding || large
    if (suspect && shed) lastShedAt = Date.now()
    if (held >= maxHeld || delayMs === 0) return shed ? done(shedSuspect(request, reply)) : done()
    // Held back before the answer or the verification (its body unread, so the sender soon blocks on a full
    // socket): each of a flood's connections then costs one request a `delayMs` instead of one as fast as
    // the relay answers. A small body from a suspect that is not shed is verified once its wait is over, so
    // a genuine callback from a suspect's address (Tylt's own, during a rotation mistake on another service)
    // is still accepted, a second late. Each waits between half and one and a half `delayMs`: connections
    // held together would otherwise be let go in one timer tick and come back together, a burst of work
    // once a `delayMs` that genuine callbacks arriving then wait behind.
    held++
    const socket = request.raw.socket
    // Its wait ends when its time is up or its sender gives up (a flood that does not wait would otherwise
    // fill the places with requests nobody is waiting for, and be verified at once for want of a place). It
    // is shed after all if shedding began meanwhile. A suspect that gives up within its second is flooding,
    // not sending callbacks (nothing that waits for an answer gives up that soon): shedding starts, as when
    // the loop is busy, so that its next connections are held unread instead of costing a request each.
    const settle = () => {
      clearTimeout(timer)
      socket.off('close', settle)
      held--
      if (shed || shedding || socket.destroyed) {
        if (!shed) lastShedAt = Date.now()
        done(shedSuspect(request, reply))
      } else done()
    }
    const timer = setTimeout(settle, delayMs * (0.5 + Math.random()))
    socket.once('close', settle)
  })
}
