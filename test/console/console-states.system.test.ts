import type { Page } from 'playwright-core'
import { expect, test, vi } from 'vitest'
import { useBrowser } from './browser.js'
import { logIn } from './chromium.js'
import { payIn, TOKEN } from './console-test-app.js'
import { openPage, operatorRelay, upiTrade } from './operator-relay.js'

vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 })

const browser = useBrowser()

/** Every text node of the page and every generated content (::before, ::after) that is not printable ASCII. */
const notAscii = (page: Page) =>
  page.evaluate<string[]>(`(() => {
    const found = []
    const walker = document.createTreeWalker(document.documentElement, NodeFilter.SHOW_TEXT)
    for (let node = walker.nextNode(); node !== null; node = walker.nextNode()) {
      if (/[^\\x20-\\x7e\\t\\n\\r]/.test(node.nodeValue)) found.push(node.nodeValue)
    }
    for (const element of document.querySelectorAll('*')) {
      for (const pseudo of ['::before', '::after']) {
        const content = getComputedStyle(element, pseudo).content
        if (/[^\\x20-\\x7e]/.test(content)) found.push(pseudo + ' ' + content)
      }
    }
    return found
  })()`)

/** Labels that the layout broke inside a word or across lines: each must render on one line. */
const wrapped = (page: Page) =>
  page.evaluate<string[]>(`[...document.querySelectorAll('.status, .state, .outcome')]
    .filter((e) => e.getBoundingClientRect().height > parseFloat(getComputedStyle(e).fontSize) * 2.4)
    .map((e) => e.textContent)`)

const cellTexts = async (page: Page, label: string) =>
  (await page.locator(`#events tbody td[data-label="${label}"]`).allTextContents()).map((t) => t.trim())

test('a UPI status 4 reads "4 completed", success; an expired CPG order reads failure; every label is ASCII on one line, with or without forced colours, at desktop and phone width', async () => {
  // A downstream that refuses: the events wait as pending (with none configured they would be stored).
  const r = await operatorRelay({ FORWARD_URL: 'http://127.0.0.1:9/refused' })
  await r.accept(upiTrade('UPI-4242', 4, 'completed'), 'prime-upi')
  await r.accept(upiTrade('UPI-4343', 2, 'waiting'), 'prime-upi')
  await r.accept(payIn('CPG-EXPIRED-1', { status: 'Expired' }))
  const page = await openPage(browser())
  const missing: string[] = []
  page.on('response', (answer) => {
    if (answer.status() === 404) missing.push(answer.url())
  })
  await logIn(page, r.opsUrl, TOKEN)
  for (const width of [1280, 360]) {
    for (const forcedColors of ['none', 'active'] as const) {
      await page.setViewportSize({ width, height: 900 })
      await page.emulateMedia({ forcedColors })
      await page.goto(`${r.opsUrl}/console/events`)
      expect(await cellTexts(page, 'Merchant order')).toEqual(['CPG-EXPIRED-1', 'UPI-4343', 'UPI-4242'])
      expect(await cellTexts(page, 'Tylt status')).toEqual(['Expired', '2 waiting', '4 completed'])
      expect(await cellTexts(page, 'Outcome')).toEqual(['failure', 'in progress', 'success'])
      expect(await cellTexts(page, 'State')).toEqual(['pending', 'pending', 'pending'])
      expect(await wrapped(page)).toEqual([])
      expect(await notAscii(page)).toEqual([])
    }
  }
  await page.getByRole('link', { name: 'UPI-4242' }).click()
  await page.getByRole('heading', { name: 'Event UPI-4242' }).waitFor()
  const meta = (name: string) => page.locator(`#metadata dt:text-is("${name}") + dd`).textContent()
  expect(await meta('Tylt status')).toBe('4 completed')
  expect(await meta('Outcome')).toBe('success')
  expect(await notAscii(page)).toEqual([])
  expect(await wrapped(page)).toEqual([])
  // The tab's icon is the relay's own; no page asked for anything that is not there.
  const href = await page.locator('link[rel=icon]').getAttribute('href')
  const icon = await page.request.get(`${r.opsUrl}${href}`)
  expect(icon.status()).toBe(200)
  expect(icon.headers()['content-type']).toBe('image/svg+xml')
  expect(missing).toEqual([])
})
