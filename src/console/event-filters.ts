import { EVENT_STATES, type EventState, PRODUCTS, type Product } from '../core/event.js'
import type { ListQuery } from '../core/event-store.js'
import { statusIdsOf } from '../event/finality-table.js'
import { CONSOLE } from './console-settings.js'

/** The events table's filters as the form holds them (text), and as the store reads them. */
export interface EventFilters {
  readonly form: Readonly<Record<FilterName, string>>
  readonly query: ListQuery
  /** Filters that could not be read, said in words; they are left out of the query. */
  readonly problems: readonly string[]
}

export const FILTER_NAMES = ['service', 'product', 'status', 'state', 'order', 'since', 'until'] as const
export type FilterName = (typeof FILTER_NAMES)[number]

/** `2026-12-01T08:30` (a datetime-local field, read as UTC), with or without seconds, or a full ISO time. */
function parseTime(text: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:\d{2})?$/.test(text)) return undefined
  const zoned = /(Z|[+-]\d{2}:\d{2})$/.test(text) || !text.includes('T') ? text : `${text}Z`
  const ms = Date.parse(zoned)
  return Number.isNaN(ms) ? undefined : ms
}

const oneOf = <T extends string>(values: readonly T[], text: string): T | undefined =>
  values.find((v) => v === text)

/** Reads the query string of `GET /console/events`; unknown or malformed values are reported, not thrown. */
export function parseEventFilters(
  raw: Readonly<Record<string, unknown>>,
  services: readonly string[],
): EventFilters {
  // An order id is searched by its start, so only its end is trimmed: ` ORD-1` is another id than `ORD-1`.
  const text = (name: string) => {
    const value = typeof raw[name] === 'string' ? (raw[name] as string).slice(0, 200) : ''
    return name === 'order' ? value.trimEnd() : value.trim()
  }
  const form = Object.fromEntries(FILTER_NAMES.map((n) => [n, text(n)])) as Record<FilterName, string>
  const problems: string[] = []
  const pick = <T extends string>(name: FilterName, values: readonly T[]): T | undefined => {
    if (form[name] === '') return undefined
    const found = oneOf(values, form[name])
    if (found === undefined) problems.push(`unknown ${name} "${form[name]}"`)
    return found
  }
  const time = (name: 'since' | 'until') => {
    if (form[name] === '') return undefined
    const ms = parseTime(form[name])
    if (ms === undefined) problems.push(`${name} must be a date and time such as 2026-12-01T08:30 (UTC)`)
    return ms
  }
  const before = Number(text('before'))
  const query: ListQuery = {
    limit: CONSOLE.pageSize + 1,
    service: pick('service', services),
    product: pick<Product>('product', PRODUCTS),
    state: pick<EventState>('state', EVENT_STATES),
    status: form.status === '' ? undefined : form.status,
    statusIds: form.status === '' ? undefined : statusIdsOf(form.status),
    order: form.order === '' ? undefined : form.order,
    since: time('since'),
    until: time('until'),
    beforeSeq: Number.isSafeInteger(before) && before > 0 ? before : undefined,
  }
  return { form, query, problems }
}
