import { parseTyltEvent } from './parse-tylt-event.js'
import type { MetadataSource } from './read-metadata.js'
import type { TyltEvent } from './tylt-event.js'

/** The application's work for one event; the message is acknowledged only once this resolves. */
export type EventHandler = (event: TyltEvent) => Promise<void> | void

/** Told about a handler that threw or rejected; the message stays unacknowledged and comes again. */
export type ErrorListener = (err: unknown, event: TyltEvent) => void

/** Parses and hands over one message; true when the handler resolved, so it may be acknowledged. */
export async function handleDelivery(
  body: Uint8Array | string,
  metadata: MetadataSource,
  handler: EventHandler,
  onError: ErrorListener | undefined,
): Promise<boolean> {
  const event = parseTyltEvent(body, metadata)
  try {
    await handler(event)
    return true
  } catch (err) {
    onError?.(err, event)
    return false
  }
}
