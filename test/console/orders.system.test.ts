import type { Page } from 'playwright-core'
import { describe, expect, test, vi } from 'vitest'
import { eventually } from '../helpers/index.js'
import { API_KEYS, reconcileEnv, standIn } from '../reconcile/reconcile-helpers.js'
import { useBrowser } from './browser.js'
import { logIn } from './chromium.js'
import { TOKEN } from './console-test-app.js'
import { openPage, operatorRelay } from './operator-relay.js'

vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 })

const browser = useBrowser()

const fitsWidth = (page: Page) =>
  page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth')

const ORDER_ID = '7b5c1f0e-2d4a-4e8b-9c3f-5a6b7c8d9e0f'
const MERCHANT_ID = 'Shop-Order-77'

describe('the Orders view', () => {
  test('an order seen Pending by callback and Completed by "check now" is found by its merchant id, its states shown with their sources', async () => {
    const stand = await standIn()
    const r = await operatorRelay(reconcileEnv(stand))
    const key = stand.addOrder('cpg', 'cpg-pay-in', 'Pending', {
      orderId: ORDER_ID,
      merchantOrderId: MERCHANT_ID,
    })
    expect(await stand.deliver(key, `${r.url}/webhooks/cpg`)).toBe(200)
    stand.move(key, 'Completed')

    const page = await openPage(browser())
    await logIn(page, r.opsUrl, TOKEN)
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Orders' }).click()
    await page.getByRole('heading', { name: 'Orders', exact: true }).waitFor()
    // Another case than the callback's: the search ignores it, as the events table's does.
    await page.getByLabel('Order id or merchant order id').fill('shop-order-77')
    await page.getByRole('button', { name: 'Find' }).click()
    const found = page.locator('#orders-found tbody tr')
    expect(await found.count()).toBe(1)
    expect(await found.locator('td[data-label="Merchant order"]').textContent()).toBe(MERCHANT_ID)
    await found.getByRole('link', { name: key }).click()

    await page.getByRole('heading', { name: `Order ${key}` }).waitFor()
    const sources = () =>
      page
        .locator('#order-history tbody tr')
        .evaluateAll((rows) =>
          rows.map((row) =>
            ['Status', 'Source'].map((label) => row.querySelector(`td[data-label="${label}"]`)?.textContent),
          ),
        )
    expect(await sources()).toEqual([['Pending', 'callback']])
    await page.getByRole('button', { name: 'Check now' }).click()
    await page.getByRole('status').filter({ hasText: 'Tylt says Completed' }).waitFor()
    expect(await sources()).toEqual([
      ['Pending', 'callback'],
      ['Completed', 'reconcile'],
    ])
    expect(await page.locator('#order-status').textContent()).toBe('Completed (reconcile, final: true)')
    // Once final, the order is no longer open.
    await page.goto(`${r.opsUrl}/console/orders`)
    expect(await page.locator('#orders-open-none').textContent()).toBe('No order is open.')
    expect(stand.requestsFor({ service: 'cpg' })).toHaveLength(1)
    expect(r.output()).not.toContain(API_KEYS.cpg)
  })

  test('an order past RECONCILE_MAX_AGE shows as abandoned; the JSON API answers 401 without the token', async () => {
    const stand = await standIn()
    // An EU order carries no deadline: its first check is due RECONCILE_AFTER after it was seen, by then
    // past RECONCILE_MAX_AGE, so the serving relay's round abandons it without asking Tylt.
    const r = await operatorRelay(
      reconcileEnv(stand, { RECONCILE_AFTER: '2s', RECONCILE_MAX_AGE: '1s', RECONCILE_INTERVAL: '1s' }),
    )
    const key = stand.addOrder('prime-upi', 'eu', 4, { merchantOrderId: 'LATE-1' })
    expect(await stand.deliver(key, `${r.url}/webhooks/prime-upi`)).toBe(200)

    const unauthorized = await fetch(`${r.opsUrl}/console/api/orders`)
    expect(unauthorized.status).toBe(401)
    expect(await unauthorized.json()).toEqual({
      error: 'unauthorized',
      message: 'send Authorization: Bearer <OPS_TOKEN>',
    })
    const listed = await eventually(
      () => r.api('/console/api/orders'),
      (a) => (a.body.abandoned as unknown[]).length === 1,
      20_000,
    )
    expect(listed.status).toBe(200)
    expect(Object.keys(listed.body).sort()).toEqual(['abandoned', 'due', 'found', 'now', 'open', 'query'])
    expect(listed.body).toMatchObject({ query: null, found: null, open: [], due: [] })
    expect(listed.body.abandoned).toEqual([
      expect.objectContaining({
        service: 'prime-upi',
        product: 'eu-open-banking',
        orderKey: key,
        source: 'callback',
        nextCheck: null,
        lastResult: 'abandoned',
        abandonedAt: expect.any(Number),
      }),
    ])

    const page = await openPage(browser())
    await logIn(page, r.opsUrl, TOKEN)
    await page.goto(`${r.opsUrl}/console/orders`)
    const row = page.locator('#orders-abandoned tbody tr')
    expect(await row.count()).toBe(1)
    expect(await row.locator('td[data-label="Next check"]').textContent()).toMatch(/^abandoned \d{4}-/)
    // On a phone: nothing runs off the side.
    await page.setViewportSize({ width: 360, height: 740 })
    expect(await fitsWidth(page)).toBe(true)
    await row.getByRole('link', { name: key }).click()
    expect(await page.locator('#order-abandoned').textContent()).toMatch(/^\d{4}-\d\d-\d\d /)
    expect(await fitsWidth(page)).toBe(true)
    expect(stand.requests).toEqual([])
  })
})
