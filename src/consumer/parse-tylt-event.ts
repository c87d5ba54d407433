import { type Finality, PRODUCTS, type Product } from '../core/event.js'
import { extractMetadata } from '../event/extract-metadata.js'
import { at, isObject } from '../event/read-path.js'
import { outcomeOf } from './outcome.js'
import { type MetadataSource, readMetadata } from './read-metadata.js'
import type { EventBase, TyltEvent } from './tylt-event.js'

const text = (value: unknown): string | null =>
  typeof value === 'string'
    ? value
    : typeof value === 'number' && Number.isFinite(value)
      ? String(value)
      : null

const flag = (value: unknown): boolean | null => {
  if (value === true || value === 1 || value === '1' || value === 'true') return true
  if (value === false || value === 0 || value === '0' || value === 'false') return false
  return null
}

const integer = (value: unknown): number | null => {
  const digits = text(value)
  return digits !== null && /^\d{1,9}$/.test(digits) ? Number(digits) : null
}

/** The first of several places that holds a value. */
const first = (root: unknown, ...paths: (readonly string[])[]) =>
  paths.map((p) => at(root, p)).find((v) => v !== undefined && v !== null)

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'))
  } catch {
    return undefined
  }
}

const FINAL: Readonly<Record<Finality, boolean | null>> = { true: true, false: false, unknown: null }

/** The relay's metadata where it is given; else read from the body the same way the relay reads it. */
function base(bytes: Buffer, raw: unknown, metadata: MetadataSource): EventBase & { product: Product } {
  const read = (name: string) => readMetadata(metadata, name)
  const body = extractMetadata(bytes, raw === undefined ? null : raw)
  const named = read('tylt-product')
  const product = PRODUCTS.find((p) => p === named) ?? body.product
  const final = (['true', 'false', 'unknown'] as const).find((f) => f === read('tylt-final')) ?? body.final
  const status = read('tylt-status') ?? body.status
  const manual = flag(at(raw, ['data', 'manualSettlement'])) === true
  const recovered = read('tylt-recovered')
  const acceptedAt = read('tylt-accepted-at')
  return {
    product,
    id: read('webhook-id') ?? null,
    service: read('tylt-service') ?? null,
    orderId: read('tylt-order-id') ?? body.orderId,
    merchantOrderId: read('tylt-merchant-order-id') ?? body.merchantOrderId,
    status,
    final: FINAL[final],
    outcome: outcomeOf(product, status, final, manual),
    recovered: recovered === 'quarantine' || recovered === 'reconcile' ? recovered : null,
    acceptedAt: acceptedAt !== undefined && /^\d+$/.test(acceptedAt) ? Number(acceptedAt) : null,
    raw,
  }
}

const hashes = (list: unknown): string[] =>
  Array.isArray(list) ? list.map((t) => text(at(t, ['transactionHash']))).filter((h) => h !== null) : []

function trade(raw: unknown) {
  const d = at(raw, ['data'])
  return {
    instanceId: text(first(d, ['instanceId'], ['transaction', 'orderId'])),
    eventId: integer(at(d, ['trade', 'event', 'id'])),
    isBuyTrade: flag(at(d, ['trade', 'isBuyTrade'])),
    fiatAmount: text(first(d, ['trade', 'fiatAmount'], ['transaction', 'fiatAmount'])),
    fiatCurrency: text(
      first(d, ['trade', 'fiatCurrency'], ['transaction', 'fiatCurrency'], ['fiatCurrency']),
    ),
    cryptoAmount: text(at(d, ['trade', 'cryptoAmount'])),
    cryptoCurrency: text(at(d, ['trade', 'cryptoCurrency'])),
    transactionStatus: text(at(d, ['transaction', 'status'])),
    manualSettlement: flag(at(d, ['manualSettlement'])) === true,
  }
}

/** The fields a family's pages document, by product (docs/consumers.md, "Typed events"). */
function fields(event: EventBase & { product: Product }, raw: unknown): TyltEvent {
  const d = isObject(at(raw, ['data'])) ? at(raw, ['data']) : raw
  switch (event.product) {
    case 'cpg-pay-in':
      return {
        ...event,
        product: 'cpg-pay-in',
        baseAmount: text(at(d, ['baseAmount'])),
        baseCurrency: text(at(d, ['baseCurrency'])),
        baseAmountReceived: text(first(d, ['baseAmountReceived'], ['baseAmountRecieved'])),
        settledCurrency: text(at(d, ['settledCurrency'])),
        settledAmountRequested: text(at(d, ['settledAmountRequested'])),
        settledAmountReceived: text(at(d, ['settledAmountReceived'])),
        settledAmountCredited: text(at(d, ['settledAmountCredited'])),
        commission: text(at(d, ['commission'])),
        network: text(at(d, ['network'])),
        depositAddress: text(at(d, ['depositAddress'])),
        transactionHashes: hashes(at(d, ['transactions'])),
        createdAt: text(at(d, ['createdAt'])),
        expiresAt: text(at(d, ['expiresAt'])),
      }
    case 'cpg-payout':
      return {
        ...event,
        product: 'cpg-payout',
        baseAmount: text(at(d, ['baseAmount'])),
        baseCurrency: text(at(d, ['baseCurrency'])),
        settledAmountDebited: text(at(d, ['settledAmountDebited'])),
        settledAmountSent: text(at(d, ['settledAmountSent'])),
        toAddress: text(at(d, ['toAddress'])),
        insufficientBalance: flag(at(d, ['insufficientBalance'])),
        transactionHashes: hashes(at(d, ['transactions'])),
      }
    case 'upi':
      return { ...event, ...trade(raw), product: 'upi', utr: text(at(d, ['transaction', 'utr'])) }
    case 'pix':
      return {
        ...event,
        ...trade(raw),
        product: 'pix',
        endToEndId: text(at(d, ['transaction', 'endToEndId'])),
      }
    case 'eu-open-banking':
      return {
        ...event,
        product: 'eu-open-banking',
        instanceId: text(first(raw, ['data', 'instanceId'], ['instanceId'])),
        eventId: integer(
          first(
            raw,
            ['data', 'eventDetails', 'eventId'],
            ['data', 'eventId'],
            ['eventDetails', 'eventId'],
            ['eventId'],
          ),
        ),
        isBuying: flag(first(raw, ['data', 'isBuying'], ['isBuying'])),
        fiatAmount: text(first(raw, ['data', 'fiatAmount'], ['fiatAmount'])),
        fiatCurrency: text(first(raw, ['data', 'fiatCurrency'], ['fiatCurrency'])),
        cryptoAmount: text(first(raw, ['data', 'cryptoAmount'], ['cryptoAmount'])),
        cryptoCurrency: text(first(raw, ['data', 'cryptoCurrency'], ['cryptoCurrency'])),
      }
    case 'inr-payout':
      return {
        ...event,
        product: 'inr-payout',
        event: text(first(raw, ['event'], ['data', 'event'])),
        amount: text(first(raw, ['amount'], ['data', 'amount'])),
        currency: text(first(raw, ['currency'], ['data', 'currency'])),
        utr: text(first(raw, ['utr'], ['data', 'utr'])),
      }
    default:
      return { ...event, product: 'unknown' }
  }
}

/**
 * A forwarded delivery as a typed event: `body` is the message's bytes, `metadata` its headers (HTTP, AMQP,
 * NATS) or stream fields (Redis). A body whose family cannot be told, or that is not JSON, comes back as
 * `product: 'unknown'` with what the metadata says; this never throws.
 */
export function parseTyltEvent(body: Uint8Array | string, metadata: MetadataSource = {}): TyltEvent {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body)
  const raw = parseJson(bytes)
  try {
    return fields(base(bytes, raw, metadata), raw)
  } catch {
    // Not reachable with the readers above; kept so that a surprise in a body never stops a consumer.
    return { ...base(Buffer.alloc(0), undefined, {}), product: 'unknown', raw }
  }
}
