import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { describe, expect, test, vi } from 'vitest'
import { eventually, SECRETS, sample, sign, tempDir } from '../helpers/index.js'
import { post } from '../helpers/relay-process.js'
import { useBrowser } from './browser.js'
import { logIn } from './chromium.js'
import { payIn, TOKEN } from './console-test-app.js'
import { openPage, operatorRelay, upiTrade } from './operator-relay.js'

vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 })

const browser = useBrowser()

const merchantOrders = async (page: Page) =>
  (await page.locator('#events tbody td[data-label="Merchant order"]').allTextContents()).map((t) => t.trim())

/** Counts the page's polls of the pulse endpoint. */
function countPulses(page: Page) {
  const seen = { n: 0 }
  page.on('request', (request) => {
    if (request.url().endsWith('/console/api/pulse')) seen.n++
  })
  return seen
}

/** Makes the tab look hidden (or visible again) to the page, as switching tabs does. */
const setVisibility = (page: Page, state: 'hidden' | 'visible') =>
  page.evaluate(`Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => '${state}' });
    document.dispatchEvent(new Event('visibilitychange'))`)

describe('live pages', () => {
  test('with the events page open, a callback sent now appears in the table within 3 s without a reload; a hidden tab stops asking', async () => {
    const r = await operatorRelay()
    await r.accept(payIn('LIVE-1'))
    const page = await openPage(browser())
    const pulses = countPulses(page)
    await logIn(page, r.opsUrl, TOKEN)
    await page.goto(`${r.opsUrl}/console/events`)
    expect(await merchantOrders(page)).toEqual(['LIVE-1'])
    // Set on this document: a reload or a navigation would lose it.
    await page.evaluate('window.sameDocument = true')
    await eventually(
      async () => pulses.n,
      (n) => n >= 1,
    )
    await r.accept(payIn('LIVE-2'))
    await page.locator('#events tbody tr', { hasText: 'LIVE-2' }).waitFor({ timeout: 3_000 })
    expect(await merchantOrders(page)).toEqual(['LIVE-2', 'LIVE-1'])
    expect(await page.evaluate('window.sameDocument')).toBe(true)

    await setVisibility(page, 'hidden')
    await page.waitForTimeout(300) // a poll already on its way may land
    const whileHidden = pulses.n
    await r.accept(payIn('LIVE-3'))
    await page.waitForTimeout(2_500)
    expect(pulses.n).toBe(whileHidden)
    expect(await merchantOrders(page)).toEqual(['LIVE-2', 'LIVE-1'])
    await setVisibility(page, 'visible')
    await page.locator('#events tbody tr', { hasText: 'LIVE-3' }).waitFor({ timeout: 3_000 })
    expect(await page.evaluate('window.sameDocument')).toBe(true)
  })

  test('the overview counts a new pending event without a reload', async () => {
    // A downstream that refuses: the event waits as pending (with none configured it would be stored).
    const r = await operatorRelay({ FORWARD_URL: 'http://127.0.0.1:9/refused' })
    const page = await openPage(browser())
    await logIn(page, r.opsUrl, TOKEN)
    expect(await page.locator('#pending-count').textContent()).toBe('0 events')
    await page.evaluate('window.sameDocument = true')
    await page.waitForTimeout(1_500) // the first poll, which only takes the baseline
    await r.accept(payIn('LIVE-OVERVIEW'))
    await expect.poll(() => page.locator('#pending-count').textContent(), { timeout: 3_000 }).toBe('1 event')
    expect(await page.evaluate('window.sameDocument')).toBe(true)
  })
})

test('the search box on every page: my-order-42 opens MY-ORDER-42, MY-ORD lists it beside MY-ORDER-43', async () => {
  const r = await operatorRelay()
  await r.accept(payIn('MY-ORDER-42'))
  await r.accept(payIn('MY-ORDER-43'))
  await r.accept(payIn('OTHER-7'))
  const page = await openPage(browser())
  await logIn(page, r.opsUrl, TOKEN)
  const search = async (text: string) => {
    await page.getByLabel('Find an order').fill(text)
    await page.getByLabel('Find an order').press('Enter')
    await page.waitForLoadState()
  }
  await search('my-order-42')
  await page.getByRole('heading', { name: 'Event MY-ORDER-42' }).waitFor()
  // From an event's page, and from the quarantine's: the box is on every page.
  await search('MY-ORD')
  await page.getByRole('heading', { name: 'Events' }).waitFor()
  expect(await merchantOrders(page)).toEqual(['MY-ORDER-43', 'MY-ORDER-42'])
  await page.goto(`${r.opsUrl}/console/quarantine`)
  await search('ord-my-order-4')
  await page.getByRole('heading', { name: 'Events' }).waitFor()
  expect(await merchantOrders(page)).toEqual(['MY-ORDER-43', 'MY-ORDER-42'])
  await search('nothing-like-it')
  expect(await page.locator('#no-events').textContent()).toBe('No event matches.')
})

test("a quarantined request's page names the service whose key verifies it once the key is added, and Retry there accepts it", async () => {
  const newKey = 'tylt-key-rotated-2026-77d0'
  const file = join(tempDir(), 'cpg')
  writeFileSync(file, `${SECRETS.cpg}\n`)
  const r = await operatorRelay({ TYLT_SECRET_CPG_FILE: file })
  const body = payIn('ORD-LATE-KEY', { userDetails: { name: 'Asha Verma', email: 'asha@example.com' } })
  expect((await post(`${r.url}/webhooks/cpg`, body, sign(newKey, body))).status).toBe(401)
  await eventually(
    async () => sample(await r.metrics(), 'tylt_relay_quarantine_requests') ?? -1,
    (n) => n === 1,
  )
  const page = await openPage(browser())
  await logIn(page, r.opsUrl, TOKEN)
  await page.goto(`${r.opsUrl}/console/quarantine`)
  await page.locator('#quarantine tbody td[data-label="Received"] a').click()
  await page.getByRole('heading', { name: /^Quarantined request q_\w+$/ }).waitFor()
  const field = (name: string) => page.locator(`#request dt:text-is("${name}") + dd`).textContent()
  expect(await field('Refused because')).toBe('signature did not match')
  expect(await field('Verifies now')).toBe(
    'does not verify with any secret configured now (signature did not match)',
  )
  expect(await field('X-TLP-SIGNATURE')).toBe(sign(newKey, body))
  expect(await field('Service asked for')).toBe('cpg')
  const shown = (await page.locator('#body').textContent()) ?? ''
  expect(shown).toContain('ORD-LATE-KEY')
  expect(shown).not.toContain('Asha')
  expect(shown).not.toContain('asha@example.com')

  writeFileSync(file, `${newKey}\n${SECRETS.cpg}\n`)
  await expect.poll(() => r.output(), { timeout: 10_000 }).toContain('"secrets reloaded"')
  await page.reload()
  expect(await field('Verifies now')).toBe(
    'verifies now with service cpg, its current secret (the first listed): Retry accepts it',
  )
  await page.getByRole('button', { name: 'Retry' }).click()
  await expect
    .poll(() => page.getByRole('status').textContent())
    .toMatch(/^Request q_\w+ verified with the current secrets and accepted; it is queued for delivery\.$/)
  const events = await r.api('/console/api/events?order=ORD-LATE-KEY')
  expect(events.body.events).toEqual([expect.objectContaining({ recovered: 'quarantine' })])
})

test('replaying the dead letters of one filter replays exactly that set, after a count and a confirmation', async () => {
  // Port 1 has no listener: every delivery fails, and the events become dead letters quickly.
  const r = await operatorRelay({
    FORWARD_URL: 'redis://127.0.0.1:1?stream=x',
    RETRY_MAX_AGE: '1s',
    SHUTDOWN_GRACE: '1s',
  })
  for (const order of ['DL-CPG-1', 'DL-CPG-2', 'DL-CPG-3']) await r.accept(payIn(order))
  for (const order of ['DL-UPI-1', 'DL-UPI-2']) await r.accept(upiTrade(order, 4, 'completed'), 'prime-upi')
  const dead = async () => sample(await r.metrics(), 'tylt_relay_dead_letters') ?? -1
  await eventually(dead, (n) => n === 5, 30_000)
  const page = await openPage(browser())
  const asked: string[] = []
  page.on('dialog', (dialog) => {
    asked.push(dialog.message())
    void dialog.accept()
  })
  await logIn(page, r.opsUrl, TOKEN)
  await page.goto(`${r.opsUrl}/console/events?service=cpg&state=dead`)
  expect(await merchantOrders(page)).toEqual(['DL-CPG-3', 'DL-CPG-2', 'DL-CPG-1'])
  const button = page.getByRole('button', { name: 'Replay the 3 dead letters matching these filters' })
  const replayedAt = Date.now()
  await button.click()
  await expect
    .poll(() => page.getByRole('status').textContent())
    .toBe('3 dead letters queued for delivery again.')
  expect(asked).toEqual(['Queue the 3 dead letters matching these filters for delivery again?'])
  // Exactly the three were queued again (their retry clock restarted); the other service's stayed dead.
  type Listed = { merchantOrderId: string; state: string; retrySince: number }
  const events = (await r.api('/console/api/events')).body.events as Listed[]
  const restarted = events.filter((e) => e.retrySince >= replayedAt).map((e) => e.merchantOrderId)
  expect(restarted.sort()).toEqual(['DL-CPG-1', 'DL-CPG-2', 'DL-CPG-3'])
  const upi = events.filter((e) => e.merchantOrderId.startsWith('DL-UPI'))
  expect(upi.map((e) => e.state)).toEqual(['dead', 'dead'])
  expect(await dead()).toBeGreaterThanOrEqual(2)
  expect(r.output().match(/dead letters queued for delivery again/g)).toHaveLength(1)
})
