import { readFileSync } from 'node:fs'
import { loadConfig } from '../config/load-config.js'
import { PRODUCTS, type Product } from '../core/event.js'
import { UsageError } from '../errors.js'
import { notChecked, type OrderResult, type RunReport } from '../reconcile/order-result.js'
import { Reconciler } from '../reconcile/reconciler.js'
import type { NamedOrder } from '../reconcile/unseen-order.js'
import { openOrderLedger } from '../store/open-order-ledger.js'
import { openExistingStore } from '../store/open-store.js'
import { type Command, type CommandInput, stringOption } from './command.js'

/** The fields an orders-file line may name its order by, first found first, and which id each is. */
const ID_FIELDS = [
  ['order', undefined],
  ['orderId', 'orderId'],
  ['merchantOrderId', 'merchantOrderId'],
  ['instanceId', 'orderId'],
] as const

/** Products a named order may be given: the ledger's, less `unknown`. */
const NAMED_PRODUCTS = PRODUCTS.filter((p) => p !== 'unknown')

function productOf(value: unknown, where: string): Product | undefined {
  // A database export writes null for a column it has no value in.
  if (value === undefined || value === null) return undefined
  const product = NAMED_PRODUCTS.find((p) => p === value)
  if (product === undefined)
    throw new UsageError(
      `${where}: unknown product ${JSON.stringify(value)}; one of ${NAMED_PRODUCTS.join(', ')}`,
    )
  return product
}

/** One line of an orders file: an id, or a JSON object with an id and optionally its service and product. */
function parseOrderLine(line: string, lineNumber: number): NamedOrder {
  if (!line.startsWith('{')) return { id: line }
  let parsed: Record<string, unknown>
  try {
    parsed = JSON.parse(line) as Record<string, unknown>
  } catch {
    throw new UsageError(`--orders-file line ${lineNumber} is neither an order id nor a JSON object`)
  }
  const field = ID_FIELDS.find(([f]) => typeof parsed[f] === 'string' && parsed[f] !== '')
  if (field === undefined)
    throw new UsageError(
      `--orders-file line ${lineNumber} has none of ${ID_FIELDS.map(([f]) => f).join(', ')}`,
    )
  return {
    id: parsed[field[0]] as string,
    kind: field[1],
    service: typeof parsed.service === 'string' ? parsed.service : undefined,
    product: productOf(parsed.product, `--orders-file line ${lineNumber}`),
  }
}

function namedOrders(input: CommandInput): NamedOrder[] {
  const service = stringOption(input, 'service')
  const product = productOf(stringOption(input, 'product'), '--product')
  const order = stringOption(input, 'order')
  if (order === undefined && input.positionals.length > 0) throw new UsageError('order ids go after --order')
  const file = stringOption(input, 'orders-file')
  if (product !== undefined && order === undefined && file === undefined)
    throw new UsageError('--product names the product of the orders given with --order or --orders-file')
  const named: NamedOrder[] = [order, ...input.positionals]
    .filter((id): id is string => id !== undefined)
    .flatMap((ids) => ids.split(','))
    .map((id) => id.trim())
    .filter((id) => id !== '')
    .map((id) => ({ id, service, product }))
  if (file !== undefined) {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (err) {
      throw new UsageError(`cannot read --orders-file (${(err as NodeJS.ErrnoException).code})`)
    }
    text.split(/\r?\n/).forEach((raw, index) => {
      const line = raw.trim()
      if (line === '' || line.startsWith('#')) return
      const entry = parseOrderLine(line, index + 1)
      named.push({ ...entry, service: entry.service ?? service, product: entry.product ?? product })
    })
  }
  return named
}

const orNone = (value: string | number | null) => (value === null ? '-' : String(value))

export function resultLine(r: OrderResult): string {
  const fields = [
    r.service,
    r.product,
    r.orderKey,
    `${orNone(r.previous)}→${orNone(r.current)}`,
    r.action,
    orNone(r.httpStatus),
    orNone(r.endpoint),
  ]
  return fields.join(' ') + (r.detail === undefined ? '' : ` (${r.detail})`)
}

function summary(report: RunReport): string {
  const counts = new Map<string, number>()
  for (const r of report.results) counts.set(r.action, (counts.get(r.action) ?? 0) + 1)
  const parts = [...counts].map(([action, n]) => `${n} ${action}`)
  return `reconcile: ${report.due} order(s) checked${parts.length > 0 ? `: ${parts.join(', ')}` : ''}`
}

export const reconcileCommand: Command = {
  name: 'reconcile',
  summary: 'ask Tylt for the state of open orders; emit what the relay missed',
  usage: `tylt-relay reconcile [--order ID ...] [--orders-file FILE] [--service NAME] [--product P]
                     [--dry-run] [--json]
  --order ID       check these orders now (Tylt's id or the merchant's), whatever their schedule
  --orders-file F  also the orders in F: one id, or one JSON object a line, such as
                   {"service":"prime-upi","product":"upi","merchantOrderId":"ORD-1"}
  --service NAME   the named orders belong to this service
  --product P      and are of this product: cpg-pay-in, cpg-payout, upi, pix, eu-open-banking or
                   inr-payout. With --service, orders the relay never saw are asked about too
  --dry-run        ask Tylt and print, but emit and record nothing
  --json           one JSON object per order`,
  options: {
    order: { type: 'string' },
    'orders-file': { type: 'string' },
    service: { type: 'string' },
    product: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
  async run(input) {
    const orders = namedOrders(input)
    const config = loadConfig(input.env)
    if (config.reconcile.targets.length === 0)
      throw new Error('no service has an API key: set TYLT_APIKEY_<NAME> or TYLT_APIKEY_<NAME>_FILE')
    const stderr = input.stderr ?? process.stderr
    const store = await openExistingStore(config)
    try {
      const ledger = await openOrderLedger(config)
      try {
        const reconciler = new Reconciler({
          store,
          ledger,
          config: config.reconcile,
          maxBytes: config.bodyLimit,
          secretOf: (service) => config.services.find((s) => s.name === service)?.secrets[0],
        })
        const report = await reconciler.run({ orders, dryRun: input.values['dry-run'] === true })
        const json = input.values.json === true
        for (const r of report.results) input.stdout.write(`${json ? JSON.stringify(r) : resultLine(r)}\n`)
        for (const s of report.stopped)
          stderr.write(`tylt-relay: service ${s.service}: ${s.reason}; its orders were not checked\n`)
        const missed = notChecked(report)
        if (missed.length > 0)
          stderr.write(
            `tylt-relay: not checked: ${missed.map((r) => `${r.service}/${r.orderKey}`).join(', ')}\n`,
          )
        stderr.write(`${summary(report)}\n`)
        return missed.length > 0 ? 1 : 0
      } finally {
        await ledger.close()
      }
    } finally {
      await store.close()
    }
  },
}
