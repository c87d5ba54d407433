import type { RelayEvent } from '../../src/core/event.js'

/**
 * An accepted event as the stores and sinks take it: nothing read from the body, not recovered; the test
 * names what matters to it.
 */
export function relayEvent(fields: Pick<RelayEvent, 'id'> & Partial<RelayEvent>): RelayEvent {
  return {
    service: 'cpg',
    acceptedAt: 1_700_000_000_000,
    signature: 'f'.repeat(64),
    orderId: null,
    merchantOrderId: null,
    status: null,
    product: 'unknown',
    final: 'unknown',
    recovered: null,
    deadline: null,
    body: Buffer.from('{}'),
    ...fields,
  }
}
