import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream'
import { connect, headers, type NatsConnection, RequestError } from '@nats-io/transport-node'
import type { RelayEvent } from '../../../core/event.js'
import type { SendResult } from '../../../core/sink.js'
import { metadataHeaders } from '../../metadata-headers.js'
import { type DeliveryCode, deliveryError, systemCode } from '../delivery-error.js'
import { Refusal } from '../refusal.js'
import { abortedError, SerialSink } from '../serial-sink.js'
import { confirmedPrefix, type Outcome, settleWithin } from '../settle-within.js'
import type { NatsTarget } from './nats-downstream.js'

/** The parsed `nats://` FORWARD_URL (server, subject, credentials, redacted form), plus tuning. */
export interface NatsSinkOptions extends Omit<NatsTarget, 'kind'> {
  readonly timeoutMs?: number | undefined
  /** Connection name shown by the server (`nats server report connections`). */
  readonly connectionName?: string
}

interface Link {
  readonly nc: NatsConnection
  readonly js: JetStreamClient
  /** False between a disconnect and the next reconnect, so sends fail at once instead of timing out. */
  connected: boolean
}

/** Publishes to JetStream with `Nats-Msg-Id` = event id; a JetStream ack (even "duplicate") is a delivery. */
export class NatsSink extends SerialSink<Link> {
  readonly kind = 'nats'
  readonly #options: NatsSinkOptions

  constructor(options: NatsSinkOptions) {
    super(options.redacted, options.timeoutMs)
    this.#options = options
  }

  protected async publish(
    link: Link,
    events: readonly RelayEvent[],
    signal: AbortSignal | undefined,
  ): Promise<SendResult> {
    if (!link.connected) {
      return {
        delivered: 0,
        error: deliveryError('NOT_CONNECTED', 'NATS is disconnected; reconnecting in the background'),
      }
    }
    // All publishes go out at once and the in-order prefix of acks counts. If one in the middle fails, the
    // ones after it are sent again next time, and JetStream drops them as duplicates of their Nats-Msg-Id.
    const { outcomes } = await settleWithin(
      events.map((event) => this.#publish(link, event)),
      this.timeoutMs + 1_000,
      `JetStream did not acknowledge within ${this.timeoutMs} ms`,
      signal,
      () => abortedError(signal!),
    )
    return confirmedPrefix(outcomes)
  }

  async #publish(link: Link, event: RelayEvent): Promise<Outcome> {
    const metadata = headers()
    for (const [name, value] of Object.entries(metadataHeaders(event))) metadata.set(name, value)
    try {
      const ack = await link.js.publish(this.#options.subject, event.body, {
        msgID: event.id,
        headers: metadata,
        timeout: this.timeoutMs,
      })
      return `${ack.stream} seq ${ack.seq}${ack.duplicate ? ' (duplicate)' : ''}`
    } catch (err) {
      // The client reports "no responders" as "jetstream is not enabled"; usually no stream has the subject.
      if (err instanceof Error && err.cause instanceof RequestError && err.cause.isNoResponders()) {
        const why = `no JetStream stream captures subject "${this.#options.subject}"`
        return deliveryError('REFUSED_BY_BROKER', why, err)
      }
      return (
        refusalOf(err, link, event) ??
        deliveryError(publishFailureCode(err), `JetStream publish failed: ${describe(err)}`, err)
      )
    }
  }

  /** Warns when no JetStream stream captures the subject (every publish would fail). */
  protected async readiness(link: Link): Promise<string | undefined> {
    const { subject } = this.#options
    try {
      const jsm = await jetstreamManager(link.nc, { timeout: this.timeoutMs })
      await jsm.streams.find(subject)
      return undefined
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)
        return `no JetStream stream captures subject "${subject}"`
      return `cannot ask JetStream about subject "${subject}": ${describe(err)}`
    }
  }

  protected closeLink(link: Link): Promise<void> {
    return link.nc.close()
  }

  protected async connect(): Promise<Link> {
    const { server, user, pass, token, connectionName } = this.#options
    const nc = await connect({
      servers: server,
      name: connectionName ?? 'tylt-relay',
      ...(user === undefined ? {} : { user }),
      ...(pass === undefined ? {} : { pass }),
      ...(token === undefined ? {} : { token }),
      timeout: Math.min(this.timeoutMs, 5_000),
      // Once connected, never give up: the client reconnects in the background while sends fail fast.
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1_000,
    }).catch((err: unknown) => {
      throw deliveryError(systemCode(err) ?? 'NOT_CONNECTED', `cannot connect to NATS: ${describe(err)}`, err)
    })
    const link: Link = { nc, js: jetstream(nc, { timeout: this.timeoutMs }), connected: true }
    this.#watch(link).catch(() => undefined)
    return link
  }

  async #watch(link: Link): Promise<void> {
    for await (const status of link.nc.status()) {
      if (status.type === 'disconnect') link.connected = false
      else if (status.type === 'reconnect') link.connected = true
    }
    // The iterator ends when the connection is closed for good; the next send connects again.
    this.forget(link)
  }
}

/** JetStream's error code for a message over the stream's `max_msg_size`. */
const JS_MESSAGE_TOO_LARGE = 10054

/**
 * The two refusals no retry changes, both about this event's size: over the server's `max_payload` (the
 * client checks it before sending) or over the stream's `max_msg_size`. No responders, a full stream,
 * a timeout or a lost connection are outages.
 */
function refusalOf(err: unknown, link: Link, event: RelayEvent): Refusal | undefined {
  if (err instanceof JetStreamApiError && err.code === JS_MESSAGE_TOO_LARGE) {
    return new Refusal(
      `JetStream refused the message: its ${event.body.length} bytes are over the stream's max_msg_size`,
    )
  }
  if (err instanceof Error && err.name === 'InvalidArgumentError' && /max_payload/.test(err.message)) {
    const limit = link.nc.info?.max_payload
    return new Refusal(
      `NATS refused the message: its ${event.body.length} bytes and headers are over the server's max_payload (${limit})`,
    )
  }
  return undefined
}

/** JetStream's error answers are the broker saying no; a timeout or a lost connection is not. */
function publishFailureCode(err: unknown): DeliveryCode {
  if (err instanceof JetStreamApiError) return 'REFUSED_BY_BROKER'
  if (err instanceof Error && (err.name === 'TimeoutError' || /timeout/i.test(err.message))) return 'TIMEOUT'
  return systemCode(err) ?? 'NOT_CONNECTED'
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
