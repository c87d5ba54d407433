import { createHash } from 'node:crypto'

/**
 * The event id: a digest of (service, verified bytes), so a byte-identical re-send from the Tylt dashboard
 * gets the same id and is recognised as a duplicate here and by every consumer downstream.
 */
export function eventId(service: string, bytes: Buffer): string {
  const digest = createHash('sha256').update(service).update('\n').update(bytes).digest('hex')
  return `evt_${digest.slice(0, 32)}`
}
