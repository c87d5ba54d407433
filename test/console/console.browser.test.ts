import { createServer } from 'node:http'
import { Redis } from 'ioredis'
import type { Page } from 'playwright-core'
import { describe, expect, onTestFinished, test, vi } from 'vitest'
import { redisServerArgs, startProcess, stopProcess, uniqueName } from '../forward/sinks/helpers.js'
import { eventually, SECRETS, sample, sign, sleep, tempDir } from '../helper.js'
import { freePort, post, startRelay } from '../process/relay-process.js'
import { useBrowser } from './browser.js'
import { logIn } from './chromium.js'
import { payIn, TOKEN } from './console-test-app.js'

// Each test starts a relay process and a browser; on a busy two-core machine that alone can take seconds.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 })

const browser = useBrowser()

/** A relay process with the `cpg` service, in a temp folder, logging at info. */
async function relay(env: Record<string, string> = {}) {
  const dataDir = tempDir('tylt-relay-console-')
  const relay = await startRelay(
    { TYLT_SECRET_CPG: SECRETS.cpg, DATA_DIR: dataDir, LOG_LEVEL: 'info', ...env },
    { cwd: dataDir },
  )
  const accept = async (body: string) =>
    expect(await post(`${relay.url}/webhooks/cpg`, body, sign(SECRETS.cpg, body))).toEqual({
      status: 200,
      body: 'ok',
    })
  const dead = async () => sample(await relay.metrics(), 'tylt_relay_dead_letters') ?? -1
  return { ...relay, accept, dead }
}

async function newPage() {
  const context = await browser().newContext()
  onTestFinished(() => context.close())
  return context.newPage()
}

/** A Redis of this test's own, on a free port, which it may stop and start again. */
async function ownRedis() {
  const port = await freePort()
  const args = redisServerArgs(port, tempDir())
  let server = await startProcess('redis-server', args, port)
  onTestFinished(() => stopProcess(server))
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 })
  // While the server is stopped the client's reconnects fail; the test reads it only while it runs.
  client.on('error', () => {})
  onTestFinished(() => client.disconnect())
  return {
    port,
    stop: () => stopProcess(server),
    start: async () => {
      server = await startProcess('redis-server', args, port)
    },
    client,
  }
}

/** Whether the page fits its viewport's width: nothing to scroll sideways. */
const fitsWidth = (page: Page) =>
  page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth')

describe('logging in', () => {
  test('without OPS_TOKEN, /console is 404', async () => {
    const { opsUrl } = await relay()
    const page = await newPage()
    const answer = await page.goto(`${opsUrl}/console`)
    expect(answer?.status()).toBe(404)
    expect(await page.textContent('body')).toBe('not found')
  })

  test('with OPS_TOKEN, the wrong token is refused and the right one logs in', async () => {
    const { opsUrl, output } = await relay({ OPS_TOKEN: TOKEN })
    const page = await newPage()
    await page.goto(`${opsUrl}/console`)
    expect(new URL(page.url()).pathname).toBe('/console/login')
    await page.getByLabel('Ops token').fill(`${TOKEN}x`)
    await page.getByRole('button', { name: 'Log in' }).click()
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('not the console')
    expect(await page.context().cookies()).toEqual([])
    await page.goto(`${opsUrl}/console/events`)
    expect(new URL(page.url()).pathname).toBe('/console/login')

    await page.getByLabel('Ops token').fill(TOKEN)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.getByRole('heading', { name: 'Overview' }).waitFor()
    const [cookie] = await page.context().cookies()
    expect(cookie).toMatchObject({
      name: 'tylt_console',
      httpOnly: true,
      sameSite: 'Strict',
      path: '/console',
    })
    expect(cookie?.value).not.toContain(TOKEN)
    expect(output()).toContain('login refused')
    expect(output()).not.toContain(TOKEN)
  })

  test('the keyboard alone logs in and moves between pages', async () => {
    const { opsUrl } = await relay({ OPS_TOKEN: TOKEN })
    const page = await newPage()
    await page.goto(`${opsUrl}/console/login`)
    // The token field has the focus on arrival (once the page applied its autofocus); Enter submits the form.
    await page.waitForFunction("document.activeElement?.tagName === 'INPUT'")
    await page.keyboard.type(TOKEN)
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: 'Overview' }).waitFor()
    const focused = async () =>
      page.evaluate<string | undefined>('document.activeElement?.textContent?.trim()')
    const names: string[] = []
    for (let i = 0; i < 3 && !names.includes('Events'); i++) {
      await page.keyboard.press('Tab')
      names.push((await focused()) ?? '')
    }
    expect(names).toContain('Events')
    const outline = await page.evaluate<string>('getComputedStyle(document.activeElement).outlineStyle')
    expect(outline).toBe('solid')
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: 'Events' }).waitFor()
  })
})

test('events pile up while Redis is down, become dead letters; the operator finds one, reads its attempts, replays them all once Redis is back, and they arrive', async () => {
  const redis = await ownRedis()
  const stream = uniqueName('tylt-console')
  const r = await relay({
    OPS_TOKEN: TOKEN,
    FORWARD_URL: `redis://127.0.0.1:${redis.port}?stream=${stream}`,
    RETRY_MAX_AGE: '3s',
    SHUTDOWN_GRACE: '1s',
  })
  await r.accept(payIn('ORD-LIVE-1'))
  await eventually(
    () => redis.client.xlen(stream),
    (n) => n === 1,
  )

  await redis.stop()
  const orders = ['ORD-DOWN-1', 'ORD-DOWN-2', 'ORD-DOWN-3']
  for (const order of orders) await r.accept(payIn(order))
  await eventually(r.dead, (n) => n === 3, 20_000)

  const page = await newPage()
  await logIn(page, r.opsUrl, TOKEN)
  expect(await page.locator('#dead-count').textContent()).toBe('3 dead letters')
  await page.getByRole('link', { name: 'Events', exact: true }).click()
  // The first event of the outage is the one the forwarder kept retrying; the others expired with it.
  await page.getByLabel('Merchant or Tylt order id').fill('ORD-DOWN-1')
  await page.getByRole('button', { name: 'Filter' }).click()
  const rows = page.locator('#events tbody tr')
  await expect.poll(() => rows.count()).toBe(1)
  await rows.getByRole('link', { name: 'ORD-DOWN-1' }).click()
  await page.getByRole('heading', { name: 'Event ORD-DOWN-1' }).waitFor()
  expect(await page.locator('#metadata').textContent()).toContain('dead')
  const outcomes = await page.locator('#attempts tbody tr td:nth-child(2)').allTextContents()
  expect(outcomes).toContain('failed')
  expect(outcomes.at(-1)).toBe('dead')
  expect(await page.locator('#attempts').textContent()).toMatch(/Redis/)
  expect(await page.locator('#headers').textContent()).toContain('tylt-merchant-order-id')
  await redis.start()
  await eventually(
    async () => String(await redis.client.call('CLIENT', 'LIST').catch(() => '')),
    (list) => list.includes('name=tylt-relay'),
    15_000,
  )
  // Dead letters stay put when Redis comes back: nothing is sent until the operator replays them (the
  // forwarder looks for work every second).
  await sleep(1_500)
  expect(await redis.client.xlen(stream)).toBe(0)

  page.once('dialog', (dialog) => void dialog.accept())
  await page.getByRole('link', { name: 'Overview' }).click()
  await page.getByRole('button', { name: 'Replay all 3 dead letters' }).click()
  await expect
    .poll(() => page.getByRole('status').textContent())
    .toBe('3 dead letters queued for delivery again.')
  expect(await page.locator('#dead-count').textContent()).toBe('0 dead letters')

  const entries = await eventually(
    () => redis.client.xrange(stream, '-', '+'),
    (e) => e.length === 3,
    15_000,
  )
  const delivered = entries.map(([, fields]) => fields[fields.indexOf('tylt-merchant-order-id') + 1])
  expect(delivered.sort()).toEqual(orders)
  await page.goto(`${r.opsUrl}/console/events?state=delivered`)
  await expect.poll(() => page.locator('#events tbody tr').count()).toBe(4)
  // The same pages on a phone: nothing runs off the side.
  await page.setViewportSize({ width: 360, height: 740 })
  expect(await fitsWidth(page)).toBe(true)
  await page.getByRole('link', { name: 'ORD-DOWN-1' }).click()
  await page.getByRole('heading', { name: 'Event ORD-DOWN-1' }).waitFor()
  expect(await fitsWidth(page)).toBe(true)
  await page.getByRole('link', { name: 'Overview' }).click()
  expect(await fitsWidth(page)).toBe(true)
}, 90_000)

test('personal data stays masked until revealed, the reveal is logged without it, and <script> in a body is text', async () => {
  const r = await relay({ OPS_TOKEN: TOKEN })
  const attack = '<script>window.__pwned = 1</script><img src=x onerror=window.__pwned=2>'
  await r.accept(
    payIn('ORD-PII-1', {
      note: attack,
      userDetails: { name: 'Asha Verma', email: 'asha.verma@example.com', dob: '1990-04-12' },
      payerPhone: '+91 98765 43210',
    }),
  )
  const page = await newPage()
  await logIn(page, r.opsUrl, TOKEN)
  await page.goto(`${r.opsUrl}/console/events?order=ORD-PII-1`)
  await page.getByRole('link', { name: 'ORD-PII-1' }).click()
  const body = page.locator('#body')
  await body.waitFor()
  const masked = await page.locator('main').textContent()
  for (const personal of ['Asha Verma', 'asha.verma@example.com', '1990-04-12', '98765']) {
    expect(masked).not.toContain(personal)
  }
  expect(await body.textContent()).toContain('[masked]')
  expect(await body.textContent()).toContain(attack)
  expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined()
  expect(await page.locator('main script, main img').count()).toBe(0)

  await page.getByRole('button', { name: 'Reveal personal data' }).click()
  await expect.poll(() => body.textContent()).toContain('Asha Verma')
  expect(await body.textContent()).toContain('asha.verma@example.com')
  expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined()
  await page.setViewportSize({ width: 360, height: 740 })
  expect(await fitsWidth(page)).toBe(true)
  const id = await page.locator('#metadata code').first().textContent()
  await eventually(
    async () => r.output(),
    (out) => out.includes('personal data revealed'),
  )
  const line = r.stdout.find((l) => l.includes('personal data revealed'))
  expect(JSON.parse(line!)).toMatchObject({ eventId: id })
  expect(r.output()).not.toContain('Asha')
  expect(r.output()).not.toContain('asha.verma')
}, 60_000)

test('a cross-site form post without the CSRF token is refused and changes nothing', async () => {
  // Port 1 has no listener: every delivery fails, and the events become dead letters quickly.
  const r = await relay({
    OPS_TOKEN: TOKEN,
    FORWARD_URL: 'redis://127.0.0.1:1?stream=x',
    RETRY_MAX_AGE: '1s',
    SHUTDOWN_GRACE: '1s',
  })
  await r.accept(payIn('ORD-CSRF-1'))
  await eventually(r.dead, (n) => n === 1, 20_000)
  // Another port on the same host is another origin but the same site: the session cookie goes along.
  const attacker = createServer((_request, response) => {
    response.setHeader('content-type', 'text/html')
    response.end(`<form method="post" action="${r.opsUrl}/console/dead-letters/replay"></form>
<script>document.forms[0].submit()</script>`)
  })
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve))
  onTestFinished(() => new Promise<void>((resolve) => attacker.close(() => resolve())))
  const page = await newPage()
  await logIn(page, r.opsUrl, TOKEN)

  const refused = page.waitForResponse((answer) => answer.url().endsWith('/console/dead-letters/replay'))
  await page.goto(`http://127.0.0.1:${(attacker.address() as { port: number }).port}/`)
  const answer = await refused
  expect(answer.status()).toBe(403)
  expect(answer.request().headers().cookie ?? (await answer.request().allHeaders()).cookie).toContain(
    'tylt_console=',
  )
  expect(await r.dead()).toBe(1)
  await page.goto(`${r.opsUrl}/console`)
  expect(await page.locator('#dead-count').textContent()).toBe('1 dead letter')
  // The log is written in batches (at most 100 ms late): wait for the line rather than race its flush.
  await expect
    .poll(() => r.output(), { timeout: 5_000 })
    .toContain('refused a form post without its CSRF token')
}, 60_000)
