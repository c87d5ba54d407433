import type { Outcome } from './outcome.js'

/**
 * What every parsed event carries: the relay's metadata (docs/metadata.md) and what the state means.
 * Amounts are kept as the decimal text Tylt sent (a number or a numeric string in the body), never as a
 * float; null when absent.
 */
export interface EventBase {
  /** `webhook-id`: the same for every delivery of one callback. */
  readonly id: string | null
  readonly service: string | null
  readonly orderId: string | null
  readonly merchantOrderId: string | null
  /** `tylt-status`: the state as the body says it (`Completed`, `4`, `completed`...). */
  readonly status: string | null
  /** Whether the state ends the payment; null where Tylt's pages do not say. */
  readonly final: boolean | null
  readonly outcome: Outcome
  /** `quarantine` or `reconcile` when the event did not arrive as an accepted callback; null otherwise. */
  readonly recovered: 'quarantine' | 'reconcile' | null
  /** Acceptance time, seconds since the epoch (`tylt-accepted-at`). */
  readonly acceptedAt: number | null
  /** The parsed body as it came, for fields this type does not name. */
  readonly raw: unknown
}

export interface CpgPayInEvent extends EventBase {
  readonly product: 'cpg-pay-in'
  readonly baseAmount: string | null
  readonly baseCurrency: string | null
  /** `baseAmountReceived`, or the docs' spelling `baseAmountRecieved`. */
  readonly baseAmountReceived: string | null
  readonly settledCurrency: string | null
  readonly settledAmountRequested: string | null
  readonly settledAmountReceived: string | null
  readonly settledAmountCredited: string | null
  readonly commission: string | null
  readonly network: string | null
  readonly depositAddress: string | null
  readonly transactionHashes: readonly string[]
  readonly createdAt: string | null
  readonly expiresAt: string | null
}

export interface CpgPayoutEvent extends EventBase {
  readonly product: 'cpg-payout'
  readonly baseAmount: string | null
  readonly baseCurrency: string | null
  readonly settledAmountDebited: string | null
  readonly settledAmountSent: string | null
  readonly toAddress: string | null
  readonly insufficientBalance: boolean | null
  readonly transactionHashes: readonly string[]
}

/** UPI and PIX: a trade with an event id, and a transaction that fills in on completion. */
interface TradeFields {
  readonly instanceId: string | null
  /** `data.trade.event.id`; null before a trade exists. */
  readonly eventId: number | null
  /** true for a pay-in (the buyer pays fiat), false for a payout. */
  readonly isBuyTrade: boolean | null
  readonly fiatAmount: string | null
  readonly fiatCurrency: string | null
  readonly cryptoAmount: string | null
  readonly cryptoCurrency: string | null
  /** `data.transaction.status` (`Completed`) once there is one. */
  readonly transactionStatus: string | null
  /** Settled by hand (`manualSettlement: 1`), whatever the trade says. */
  readonly manualSettlement: boolean
}

export interface UpiEvent extends EventBase, TradeFields {
  readonly product: 'upi'
  /** The bank's UPI transaction reference, once paid. */
  readonly utr: string | null
}

export interface PixEvent extends EventBase, TradeFields {
  readonly product: 'pix'
  /** The PIX end-to-end id, once paid. */
  readonly endToEndId: string | null
}

export interface OpenBankingEvent extends EventBase {
  /** EU Open Banking, and the Philippines' rails (`fiatCurrency` `PHP`), which share its shape. */
  readonly product: 'eu-open-banking'
  readonly instanceId: string | null
  readonly eventId: number | null
  /** true for a pay-in, false for a payout (`isBuying`). */
  readonly isBuying: boolean | null
  readonly fiatAmount: string | null
  readonly fiatCurrency: string | null
  readonly cryptoAmount: string | null
  readonly cryptoCurrency: string | null
}

export interface InrPayoutEvent extends EventBase {
  readonly product: 'inr-payout'
  /** The payout's `event` (`created` ... `completed`, `failed`, `deleted`). */
  readonly event: string | null
  readonly amount: string | null
  readonly currency: string | null
  readonly utr: string | null
}

/** A body the relay could not tell the family of, or that is not JSON. */
export interface UnknownEvent extends EventBase {
  readonly product: 'unknown'
}

/** One forwarded Tylt callback, told apart by `product`. */
export type TyltEvent =
  | CpgPayInEvent
  | CpgPayoutEvent
  | UpiEvent
  | PixEvent
  | OpenBankingEvent
  | InrPayoutEvent
  | UnknownEvent

export type TyltProduct = TyltEvent['product']
