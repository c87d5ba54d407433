import type { Socket } from 'node:net'
import underPressure, { TYPE_EVENT_LOOP_UTILIZATION } from '@fastify/under-pressure'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { BodyTooLargeError, OverloadedError, SenderGoneError } from '../errors.js'
import { ADMISSION, type AdmissionLimits } from './admission-limits.js'
import type { SourceBudget } from './source-budget.js'

export interface AdmissionOptions {
  readonly budget: SourceBudget
  /** ADMISSION's pressure limits and largest callback; tests pass smaller ones. */
  readonly limits?: Partial<AdmissionLimits>
  /** How often the event loop is sampled; under-pressure's default (1 s) when absent. */
  readonly sampleIntervalMs?: number | undefined
  /** Told of each request dropped before its verification because its sender had closed the connection. */
  readonly onAbandoned?: (() => void) | undefined
}

/** What the event-loop monitor read last: under-pressure's `memoryUsage()`. */
export interface PressureReading {
  readonly eventLoopDelay: number
  readonly eventLoopUtilized: number
  readonly heapUsed: number
  readonly rssBytes: number
}

/** Answers that refuse a request: charged to its source when they are its fault. */
const CHARGED = new Set([401, 404, 413])

/** One error per kind of shed request: a flood would otherwise pay for a stack trace each. */
const OVERLOADED = new OverloadedError()
const TOO_LARGE = new BodyTooLargeError()
const GONE = new SenderGoneError()

/**
 * Admission of webhook requests, registered inside the webhook scope after the hook that creates each
 * request's context (so that every refusal here is logged and counted like any other):
 * - a source's refusals are charged to its budget by the bytes read from its connection for them, whatever
 *   its body declared (chunked, or a Content-Length that lies);
 * - a penalised source none of whose callbacks verified lately gets 413 for a body declared larger than
 *   any callback, before a byte of it is read, and 503 under event-loop-utilisation pressure;
 * - under event-loop-delay pressure (out of CPU: every request already waits) everyone gets 503, with
 *   `Retry-After`.
 * Every refusal is an HTTP answer: nothing acts on a connection before its request could be verified. A
 * request whose sender has already closed its connection is dropped before verification, unanswered.
 * Returns the monitor's last reading, for the event-loop gauges.
 */
export async function admission(
  scope: FastifyInstance,
  { budget, limits = {}, sampleIntervalMs, onAbandoned = () => {} }: AdmissionOptions,
): Promise<() => PressureReading> {
  const { maxCallbackBytes, maxEventLoopDelayMs, maxEventLoopUtilization } = { ...ADMISSION, ...limits }
  // A source whose callbacks verify recently may share its address with a flood (a NAT, a proxy the relay
  // is not told about): a request from it is refused only as everyone's is, when the loop lags.
  const shedFirst = (ip: string) => budget.penalised(ip) && !budget.verifiedRecently(ip)
  // A body left unread is not drained after the answer: the connection closes instead.
  const shed = (reply: FastifyReply, error: Error) => {
    reply.header('connection', 'close')
    return error
  }
  await scope.register(underPressure, {
    maxEventLoopDelay: maxEventLoopDelayMs,
    maxEventLoopUtilization,
    eventLoopUtilizationMode: 'interval',
    ...(sampleIntervalMs !== undefined && { sampleInterval: sampleIntervalMs }),
    pressureHandler: (request, reply, type) => {
      if (type === TYPE_EVENT_LOOP_UTILIZATION && !shedFirst(request.ip)) return
      return Promise.reject(shed(reply, OVERLOADED))
    },
  })
  scope.addHook('onRequest', (request, reply, done) => {
    const declared = Number(request.headers['content-length'])
    if (declared > maxCallbackBytes && shedFirst(request.ip)) return done(shed(reply, TOO_LARGE))
    done()
  })
  // A body refused while being read (past BODY_LIMIT) is not drained to its end either.
  scope.addHook('onError', (_request, reply, error, done) => {
    if (error.statusCode === 413) reply.header('connection', 'close')
    done()
  })
  // Nobody waits for the answer of a request whose connection has closed (a flood that pipelines requests
  // and gives up on them): it is not verified. Its sender's hanging up is no fault: nothing is charged.
  scope.addHook('preHandler', (request, _reply, done) => {
    if (!request.raw.socket?.destroyed) return done()
    onAbandoned()
    done(GONE)
  })
  const chargedUpTo = new WeakMap<Socket, number>()
  scope.addHook('onResponse', (request, reply, done) => {
    const read = bytesRead(request, chargedUpTo)
    if (CHARGED.has(reply.statusCode)) budget.charge(request.ip, read)
    done()
  })
  return () => scope.memoryUsage()
}

/**
 * Bytes read from the request's connection since the last answer on it: its headers, its body as far as it
 * was read, its chunk framing. A request without a connection (`inject`) counts its parsed body.
 */
function bytesRead(request: FastifyRequest, chargedUpTo: WeakMap<Socket, number>): number {
  const socket = request.raw.socket as Socket | undefined
  if (typeof socket?.bytesRead !== 'number') return Buffer.isBuffer(request.body) ? request.body.length : 0
  const total = socket.bytesRead
  const read = total - (chargedUpTo.get(socket) ?? 0)
  chargedUpTo.set(socket, total)
  return read
}
