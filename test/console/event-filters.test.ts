import { describe, expect, test } from 'vitest'
import { CONSOLE } from '../../src/console/console-settings.js'
import { parseEventFilters } from '../../src/console/event-filters.js'

const SERVICES = ['cpg', 'prime-upi']

describe('parseEventFilters', () => {
  test('reads every filter into the store query; the page asks for one more event to know if there is another page', () => {
    const { query, problems } = parseEventFilters(
      {
        service: 'cpg',
        product: 'upi',
        status: ' Completed ',
        state: 'dead',
        order: ' ORD-1 \n',
        since: '2026-12-01T08:30',
        until: '2026-12-01T09:00:30',
        before: '42',
      },
      SERVICES,
    )
    expect(problems).toEqual([])
    expect(query).toEqual({
      limit: CONSOLE.pageSize + 1,
      service: 'cpg',
      product: 'upi',
      status: 'Completed',
      statusIds: ['upi:4', 'upi:6', 'pix:4', 'eu-open-banking:5'],
      state: 'dead',
      order: ' ORD-1',
      since: Date.UTC(2026, 11, 1, 8, 30),
      until: Date.UTC(2026, 11, 1, 9, 0, 30),
      beforeSeq: 42,
    })
  })

  test('an empty form filters nothing', () => {
    const { query, problems } = parseEventFilters({ service: '', state: '', since: '' }, SERVICES)
    expect(problems).toEqual([])
    expect(Object.values(query).filter((v) => v !== undefined)).toEqual([CONSOLE.pageSize + 1])
  })

  test('unknown or malformed values are reported and left out, never thrown', () => {
    const { query, problems } = parseEventFilters(
      {
        service: 'nope',
        state: 'lost',
        product: 'gold',
        since: 'yesterday',
        until: '2026-13-45T99:99',
        before: '-1',
      },
      SERVICES,
    )
    expect(problems).toEqual([
      'unknown service "nope"',
      'unknown product "gold"',
      'unknown state "lost"',
      'since must be a date and time such as 2026-12-01T08:30 (UTC)',
      'until must be a date and time such as 2026-12-01T08:30 (UTC)',
    ])
    expect([query.service, query.state, query.product, query.since, query.until, query.beforeSeq]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ])
  })

  test('a time with a zone is read in that zone', () => {
    expect(parseEventFilters({ since: '2026-12-01T10:30+02:00' }, SERVICES).query.since).toBe(
      Date.UTC(2026, 11, 1, 8, 30),
    )
  })
})
