import type { StoredEvent } from '../core/event.js'
import { STATUS_LABELS } from '../event/finality-table.js'

/** How a payment ended, as an operator asks it: from the body's state and its finality. */
export type PaymentOutcome = 'success' | 'failure' | 'in progress' | 'unknown'

/** Final states that mean the money arrived (or left, for a payout); every other final state is a failure. */
const SUCCESS = new Set(['completed', 'paid'])

/** A body's state in words: `4 completed` for a numeric state Tylt documents, the state itself otherwise. */
export interface StatusView {
  readonly value: string | null
  /** Tylt's word for it, lower case; null when the body has no state. */
  readonly label: string | null
  readonly outcome: PaymentOutcome
}

/**
 * Read from the same table the metadata's finality comes from (src/event/finality-table.ts), and from the
 * finality stored with the event, so that the console and `tylt-final` never disagree.
 */
export function statusView(e: Pick<StoredEvent, 'product' | 'status' | 'final'>): StatusView {
  if (e.status === null) return { value: null, label: null, outcome: 'unknown' }
  const label = (STATUS_LABELS[e.product]?.[e.status.toLowerCase()] ?? e.status).toLowerCase()
  const outcome: PaymentOutcome =
    e.final === 'true'
      ? SUCCESS.has(label)
        ? 'success'
        : 'failure'
      : e.final === 'false'
        ? 'in progress'
        : 'unknown'
  return { value: e.status, label, outcome }
}

/** `4 completed`, `Expired`, `-`. */
export function statusText(view: StatusView): string {
  if (view.value === null) return '-'
  return view.label === view.value.toLowerCase() ? view.value : `${view.value} ${view.label}`
}
