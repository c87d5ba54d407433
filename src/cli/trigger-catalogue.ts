import { type Outcome, outcomeOf } from '../consumer/outcome.js'
import type { Finality, Product } from '../core/event.js'
import { FINALITY, finalityOf } from '../event/finality-table.js'

/** How a family's body is built (trigger-bodies.ts). */
export type Shape = 'cpg-pay-in' | 'cpg-payout' | 'trade' | 'open-banking' | 'inr-payout'

/** One family of Tylt callbacks `trigger` can make: a product, the rail's currency, a direction. */
export interface Family {
  readonly name: string
  readonly title: string
  readonly product: Product
  readonly shape: Shape
  readonly payIn: boolean
  readonly currency: string
  /** States of the product's finality table that this family never sends. */
  readonly exclude?: readonly string[]
  /** Readable names by state key; a state without one is named by its wire value. */
  readonly labels?: Readonly<Record<string, string>>
  /** The lifecycle that ends well, in order (`--sequence`); then the states that may follow a success. */
  readonly path: readonly string[]
  readonly after?: readonly string[]
  /** Host-to-host: the UPI payment instructions travel in the callbacks. */
  readonly h2h?: boolean
}

const TRADE_LABELS = {
  '0': 'created',
  '1': 'initiated',
  '2': 'awaiting-payment',
  '3': 'buyer-paid',
  '4': 'completed',
  '5': 'disputed',
  '6': 'completed-by-system',
  '9': 'expired',
  completed: 'transaction-completed',
}
const OPEN_BANKING_LABELS = {
  '1': 'instance-created',
  '2': 'order-created',
  '3': 'processing',
  '4': 'payment-processing',
  '5': 'completed',
  '6': 'refund-processing',
  '7': 'refunded',
  '8': 'failed',
  '9': 'expired',
  '10': 'kyc-failed',
  '11': 'awaiting-approval',
}

const trade = (name: string, title: string, product: Product, payIn: boolean, currency: string) =>
  ({ name, title, product, shape: 'trade', payIn, currency, labels: TRADE_LABELS }) as const

/** Every family Tylt's pages document a callback for (docs/metadata.md). */
export const FAMILIES: readonly Family[] = [
  {
    name: 'cpg-pay-in',
    title: 'Crypto Payment Gateway pay-in',
    product: 'cpg-pay-in',
    shape: 'cpg-pay-in',
    payIn: true,
    currency: 'USDT',
    path: ['pending', 'completed'],
  },
  {
    name: 'cpg-payout',
    title: 'Crypto Payment Gateway payout',
    product: 'cpg-payout',
    shape: 'cpg-payout',
    payIn: false,
    currency: 'USDT',
    path: ['pending', 'completed'],
  },
  { ...trade('upi', 'UPI pay-in, hosted widget', 'upi', true, 'INR'), path: ['1', '2', '3', '4'] },
  {
    ...trade('upi-h2h', 'UPI pay-in, host to host', 'upi', true, 'INR'),
    path: ['1', '2', '3', '4'],
    h2h: true,
  },
  {
    name: 'inr-payout',
    title: 'India INR payout',
    product: 'inr-payout',
    shape: 'inr-payout',
    payIn: false,
    currency: 'INR',
    path: ['created', 'initiated', 'processing', 'completed'],
  },
  {
    name: 'eu-pay-in',
    title: 'EU Open Banking pay-in',
    product: 'eu-open-banking',
    shape: 'open-banking',
    payIn: true,
    currency: 'EUR',
    labels: OPEN_BANKING_LABELS,
    exclude: ['11'], // waiting for the merchant's approval is a payout state
    path: ['1', '2', '3', '4', '5'],
    after: ['6', '7'],
  },
  {
    name: 'eu-payout',
    title: 'EU Open Banking payout',
    product: 'eu-open-banking',
    shape: 'open-banking',
    payIn: false,
    currency: 'EUR',
    labels: OPEN_BANKING_LABELS,
    path: ['1', '2', '3', '11', '4', '5'],
  },
  { ...trade('pix-pay-in', 'Brazil PIX pay-in', 'pix', true, 'BRL'), path: ['1', '2', '3', '4'] },
  { ...trade('pix-payout', 'Brazil PIX payout', 'pix', false, 'BRL'), path: ['1', '2', '3', '4'] },
  {
    // Tylt names the Philippines' event id but none of its values: the Open Banking ids, all `unknown`.
    name: 'php',
    title: 'Philippines PHP (rail partners)',
    product: 'eu-open-banking',
    shape: 'open-banking',
    payIn: true,
    currency: 'PHP',
    labels: OPEN_BANKING_LABELS,
    exclude: ['11'],
    path: ['1', '2', '3', '4', '5'],
  },
]

/** One (family, state) `trigger` can send, as `--list` prints it. */
export interface CatalogueRow {
  readonly family: string
  readonly state: string
  /** The value Tylt puts in the body, which the relay forwards as `tylt-status`. */
  readonly wire: string
  readonly product: Product
  readonly final: Finality
  readonly outcome: Outcome
}

const titleCase = (key: string) => key.replace(/\b[a-z]/g, (c) => c.toUpperCase())

/** Tylt writes CPG and transaction statuses capitalised, India payout events in lower case, ids as digits. */
function wireOf(family: Family, key: string): string {
  return family.shape === 'inr-payout' || /^\d+$/.test(key) ? key : titleCase(key)
}

const slug = (text: string) => text.toLowerCase().replaceAll(' ', '-')

/** A family's states, straight from the finality table the relay's metadata reads, so the two never drift. */
export function statesOf(family: Family): CatalogueRow[] {
  return Object.keys(FINALITY[family.product] ?? {})
    .filter((key) => !family.exclude?.includes(key))
    .map((key) => {
      const wire = wireOf(family, key)
      const final = finalityOf(family.product, wire, family.currency)
      return {
        family: family.name,
        state: family.labels?.[key] ?? slug(wire),
        wire,
        product: family.product,
        final,
        outcome: outcomeOf(family.product, wire, final),
      }
    })
}

/** Every row of every family, in the order `--list` prints them. */
export const catalogue = (): CatalogueRow[] => FAMILIES.flatMap(statesOf)
