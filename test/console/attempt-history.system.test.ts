import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, onTestFinished, test, vi } from 'vitest'
import { eventually } from '../helpers/index.js'
import { useBrowser } from './browser.js'
import { logIn } from './chromium.js'
import { payIn, TOKEN } from './console-test-app.js'
import { openPage, operatorRelay } from './operator-relay.js'

// A relay process and a browser on a busy two-core machine.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 })

const browser = useBrowser()

/** A real HTTP consumer answering its first requests with `statuses`, then 200 with `{"received":n}`. */
async function consumer(statuses: readonly number[]) {
  let n = 0
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      const status = statuses[n] ?? 200
      res.statusCode = status
      res.end(status === 200 ? `{"received":${n}}` : 'try later')
      n++
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  onTestFinished(() => {
    server.closeAllConnections()
    server.close()
  })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`
}

describe("an event's page in Chromium", () => {
  test('lists every attempt: answered 500 twice, then 200, each row with its status and duration', async () => {
    const r = await operatorRelay({ FORWARD_URL: await consumer([500, 500]) })
    await r.accept(payIn('ORD-ATTEMPTS-1'))
    const listed = await eventually(
      async () =>
        (await r.api('/console/api/events?order=ORD-ATTEMPTS-1')).body.events as {
          id: string
          state: string
        }[],
      (events) => events[0]?.state === 'delivered',
      30_000,
    )
    const page = await openPage(browser())
    await logIn(page, r.opsUrl, TOKEN)
    await page.goto(`${r.opsUrl}/console/events/${encodeURIComponent(listed[0]!.id)}`)
    const rows = page.locator('#attempts tbody tr')
    expect(await rows.count()).toBe(3)
    const cell = async (row: number, label: string) =>
      (await rows.nth(row).locator(`td[data-label="${label}"]`).textContent()) ?? ''
    const seen: string[][] = []
    for (let row = 0; row < 3; row++)
      seen.push([await cell(row, 'Outcome'), await cell(row, 'Status'), await cell(row, 'Answer')])
    expect(seen).toEqual([
      ['failed', '500', 'try later'],
      ['failed', '500', 'try later'],
      ['delivered', '200', '{"received":2}'],
    ])
    for (let row = 0; row < 3; row++) expect(await cell(row, 'Duration')).toMatch(/^\d+ ms$/)
    expect(await cell(2, 'Error')).toBe('-')
    expect(await cell(0, 'Error')).toContain('HTTP_500')
  })
})
