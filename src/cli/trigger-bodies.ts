import { createHash } from 'node:crypto'
import type { Family } from './trigger-catalogue.js'

/** The order a body belongs to: the merchant's id, and Tylt's, derived from it so calls can share it. */
export interface TriggerOrder {
  readonly merchantOrderId: string
  /** Milliseconds since the epoch: when this callback is sent (`updatedAt` rises along a sequence). */
  readonly at: number
}

/** Hex digits that depend only on (family, merchant order id, purpose): stable across calls. */
const digest = (family: Family, order: TriggerOrder, purpose: string, length: number) =>
  createHash('sha256')
    .update(`${family.name}\0${order.merchantOrderId}\0${purpose}`)
    .digest('hex')
    .slice(0, length)

/** Tylt's ids look like time-based UUIDs; this one is a stable UUID-shaped value per order. */
function tyltId(family: Family, order: TriggerOrder): string {
  const h = digest(family, order, 'id', 32)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-1${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`
}

const iso = (ms: number) => new Date(ms).toISOString()
// Example personal data (example.com), echoed back by Tylt as the merchant passed it.
const USER = { name: 'Asha Verma', email: 'asha.verma@example.com', dob: '1990-04-12' }

function cpgPayIn(family: Family, order: TriggerOrder, wire: string) {
  const received =
    { Completed: 25, Paid: 25, Confirming: 25, 'Under Payment': 20, 'Over Payment': 30 }[wire] ?? 0
  return {
    type: 'pay-in',
    data: {
      orderId: tyltId(family, order),
      merchantOrderId: order.merchantOrderId,
      baseAmount: 25,
      baseCurrency: 'USDT',
      baseAmountReceived: received,
      settledCurrency: 'USDT',
      settledAmountRequested: 25,
      settledAmountReceived: received,
      settledAmountCredited: Math.round(received * 99) / 100,
      commission: Math.round(received) / 100,
      network: 'TRC20',
      depositAddress: `T${digest(family, order, 'address', 33)}`,
      status: wire,
      paymentURL: `https://pay.example.com/checkout/${tyltId(family, order)}`,
      callBackURL: 'https://merchant.example.com/webhooks/tylt',
      transactions:
        received === 0 ? [] : [{ transactionHash: digest(family, order, 'tx', 64), amount: received }],
      createdAt: iso(order.at - 300_000),
      expiresAt: iso(order.at + 1_500_000),
    },
  }
}

function cpgPayout(family: Family, order: TriggerOrder, wire: string) {
  const sent = wire === 'Completed'
  return {
    type: 'pay-out',
    data: {
      orderId: tyltId(family, order),
      merchantOrderId: order.merchantOrderId,
      baseAmount: 50,
      baseCurrency: 'USDT',
      settledAmountDebited: 50,
      settledAmountSent: sent ? 49.5 : 0,
      network: 'TRC20',
      toAddress: `T${digest(family, order, 'address', 33)}`,
      insufficientBalance: 0,
      status: wire,
      transactions: sent ? [{ transactionHash: digest(family, order, 'tx', 64), amount: 49.5 }] : [],
      createdAt: iso(order.at - 60_000),
    },
  }
}

/** UPI and PIX: a trade object with the event id, and a transaction object that fills in on completion. */
function tradeBody(family: Family, order: TriggerOrder, wire: string, label: string) {
  const done = wire === '4' || wire === '6' || wire === 'Completed'
  const upi = family.currency === 'INR'
  const fiatAmount = upi ? 1500 : 350
  return {
    type: family.payIn ? 'pay-in' : 'pay-out',
    data: {
      instanceId: tyltId(family, order),
      merchantOrderId: order.merchantOrderId,
      trade: {
        isBuyTrade: family.payIn,
        fiatAmount,
        fiatCurrency: family.currency,
        cryptoAmount: upi ? 17.2 : 62.1,
        cryptoCurrency: 'USDT',
        // The transaction status alone tells the state when the trade has no event yet.
        event: wire === 'Completed' ? { id: null } : { id: Number(wire), name: label.replaceAll('-', ' ') },
        updatedAt: iso(order.at),
      },
      transaction: done
        ? {
            merchantOrderId: order.merchantOrderId,
            status: 'Completed',
            fiatAmount,
            ...(upi
              ? { utr: digest(family, order, 'utr', 12) }
              : { endToEndId: `E${digest(family, order, 'e2e', 31)}` }),
          }
        : {},
      ...(family.h2h && wire !== '0' && wire !== '1'
        ? { accounts: { transactionType: 'UPI', upiId: 'tylt.cashier@okaxis', payeeName: 'Tylt Cashier' } }
        : {}),
      userDetails: USER,
    },
  }
}

function openBanking(family: Family, order: TriggerOrder, wire: string, label: string) {
  return {
    data: {
      instanceId: tyltId(family, order),
      merchantOrderId: order.merchantOrderId,
      isBuying: family.payIn ? 1 : 0,
      fiatAmount: family.currency === 'PHP' ? 2500 : 150,
      fiatCurrency: family.currency,
      cryptoAmount: family.currency === 'PHP' ? 43.1 : 161.4,
      cryptoCurrency: 'USDC',
      eventDetails: { eventId: Number(wire), description: label.replaceAll('-', ' ') },
      updatedAt: iso(order.at),
      userDetails: USER,
    },
  }
}

function inrPayout(family: Family, order: TriggerOrder, wire: string) {
  return {
    orderId: tyltId(family, order),
    merchantOrderId: order.merchantOrderId,
    event: wire,
    amount: '2500.00',
    currency: 'INR',
    ...(wire === 'completed' ? { utr: digest(family, order, 'utr', 12) } : {}),
    beneficiary: { name: 'Priya Nair', account: 'XXXXXX4321', ifsc: 'HDFC0001234' },
    updatedAt: iso(order.at),
  }
}

/** A callback body for one state of a family, as compact JSON: the form Tylt's own example handler signs. */
export function triggerBody(family: Family, order: TriggerOrder, wire: string, label: string): Buffer {
  const body =
    family.shape === 'cpg-pay-in'
      ? cpgPayIn(family, order, wire)
      : family.shape === 'cpg-payout'
        ? cpgPayout(family, order, wire)
        : family.shape === 'trade'
          ? tradeBody(family, order, wire, label)
          : family.shape === 'open-banking'
            ? openBanking(family, order, wire, label)
            : inrPayout(family, order, wire)
  return Buffer.from(JSON.stringify(body), 'utf8')
}
