import { writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import type { Locator, Page } from 'playwright-core'
import { describe, expect, onTestFinished, test, vi } from 'vitest'
import { redisServerArgs, startProcess, stopProcess, uniqueName } from '../forward/sinks/helpers.js'
import { eventually, SECRETS, sample, sign, sleep, tempDir } from '../helpers/index.js'
import { freePort, post, startRelay } from '../helpers/relay-process.js'
import { useBrowser } from './browser.js'
import { logIn } from './chromium.js'
import { payIn, TOKEN } from './console-test-app.js'

// Each test starts a relay process and a browser; on a busy two-core machine that alone can take seconds.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 })

const browser = useBrowser()

/** A relay process with the `cpg` service (its secret in env, unless a file is given), in a temp folder, logging at info. */
async function relay(env: Record<string, string> = {}) {
  const dataDir = tempDir('tylt-relay-console-')
  const secret = 'TYLT_SECRET_CPG_FILE' in env ? {} : { TYLT_SECRET_CPG: SECRETS.cpg }
  const relay = await startRelay(
    { ...secret, DATA_DIR: dataDir, LOG_LEVEL: 'info', ...env },
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

/** A Redis of this test's own, on a free port (with a password, if given), which it may stop and start again. */
async function ownRedis(password?: string) {
  const port = await freePort()
  const args = [
    ...redisServerArgs(port, tempDir()),
    ...(password === undefined ? [] : ['--requirepass', password]),
  ]
  let server = await startProcess('redis-server', args, port)
  onTestFinished(() => stopProcess(server))
  const client = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    ...(password === undefined ? {} : { password }),
  })
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

/** The text as rendered, CSS applied: what a reader sees, which textContent is not. */
// biome-ignore lint/performance/useDomNodeTextContent: the rendered text is the point
const shown = (locator: Locator) => locator.innerText()

/** What has the keyboard focus: a field's label, or a button's or link's text. */
const focused = (page: Page) =>
  page.evaluate<string | undefined>(
    'document.activeElement?.labels?.[0]?.textContent?.trim() ?? document.activeElement?.textContent?.trim()',
  )

/** Presses Tab until `name` has the focus, as someone without a mouse would; fails if it never does. */
async function tabTo(page: Page, name: string) {
  const seen: (string | undefined)[] = []
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab')
    seen.push(await focused(page))
    if (seen.at(-1) === name) return
  }
  throw new Error(`Tab never reached ${name}; it went through ${JSON.stringify(seen)}`)
}

/**
 * Every request the page makes, and every document it is sent: a console that loads nothing from elsewhere
 * (a sidecar may have no internet) asks only the relay, and its pages name no other site.
 */
function recordTraffic(page: Page) {
  const requests: string[] = []
  const documents: { url: string; text: Promise<string> }[] = []
  page.on('request', (request) => requests.push(request.url()))
  page.on('response', (response) => {
    const status = response.status()
    if (response.request().resourceType() !== 'document' || (status >= 300 && status < 400)) return
    const text = response.text()
    // Read now, while the body is there; a failure to read it fails the test where it is awaited.
    text.catch(() => {})
    documents.push({ url: response.url(), text })
  })
  return { requests, documents }
}

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

  test('the keyboard alone logs in, moves between pages, filters the events and replays one', async () => {
    const r = await relay({ OPS_TOKEN: TOKEN })
    for (const order of ['ORD-KEY-1', 'ORD-KEY-2']) await r.accept(payIn(order))
    const page = await newPage()
    await page.goto(`${r.opsUrl}/console/login`)
    // The token field has the focus on arrival (once the page applied its autofocus); Enter submits the form.
    await page.waitForFunction("document.activeElement?.tagName === 'INPUT'")
    await page.keyboard.type(TOKEN)
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: 'Overview' }).waitFor()
    const names: string[] = []
    for (let i = 0; i < 3 && !names.includes('Events'); i++) {
      await page.keyboard.press('Tab')
      names.push((await focused(page)) ?? '')
    }
    expect(names).toContain('Events')
    const outline = await page.evaluate<string>('getComputedStyle(document.activeElement).outlineStyle')
    expect(outline).toBe('solid')
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: 'Events' }).waitFor()
    const rows = page.locator('#events tbody tr')
    expect(await rows.count()).toBe(2)

    // The filter form: its first field, typed into, and Enter.
    await tabTo(page, 'Merchant or Tylt order id')
    await page.keyboard.type('ORD-KEY-1')
    await page.keyboard.press('Enter')
    await page.waitForURL(/order=ORD-KEY-1/)
    expect(await rows.count()).toBe(1)
    await tabTo(page, 'ORD-KEY-1')
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: 'Event ORD-KEY-1' }).waitFor()

    // An action button: reached with Tab, pressed with Enter.
    await tabTo(page, 'Replay now')
    await page.keyboard.press('Enter')
    await expect
      .poll(() => page.getByRole('status').textContent())
      .toMatch(/^Event evt_\w+ is queued for delivery again\.$/)
    await expect.poll(() => r.output()).toContain('console: event queued for delivery again')
    expect(r.output().match(/event queued for delivery again/g)).toHaveLength(1)
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
  const outcomes = await page.locator('#attempts tbody tr td:nth-child(3)').allTextContents()
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

test('while Redis is down the overview says so: the downstream DOWN with its error and no password, the pending events and the age of the oldest, in words that need no colour', async () => {
  const password = 'redis-password-6d0f2a9c'
  const redis = await ownRedis(password)
  const stream = uniqueName('tylt-console-down')
  const r = await relay({
    OPS_TOKEN: TOKEN,
    FORWARD_URL: `redis://:${password}@127.0.0.1:${redis.port}?stream=${stream}`,
    // Long enough that nothing turns dead while the test looks.
    RETRY_MAX_AGE: '1h',
    SHUTDOWN_GRACE: '1s',
  })
  await r.accept(payIn('ORD-UP-1'))
  await eventually(
    () => redis.client.xlen(stream),
    (n) => n === 1,
  )
  const page = await newPage()
  // Forced colours replace every colour the page sets: what is left must still say each state.
  await page.emulateMedia({ forcedColors: 'active' })
  expect(await page.evaluate<boolean>("matchMedia('(forced-colors: active)').matches")).toBe(true)
  await logIn(page, r.opsUrl, TOKEN)
  const downstream = page.locator('#downstreams tbody tr')
  const cell = (label: string) => downstream.locator(`td[data-label="${label}"]`)
  expect(await shown(cell('State'))).toMatch(/^up$/i)
  expect(await page.locator('#pending-count').textContent()).toBe('0 events')
  expect(await page.locator('#oldest-pending').textContent()).toBe('nothing pending')

  await redis.stop()
  const orders = ['ORD-WAIT-1', 'ORD-WAIT-2']
  for (const order of orders) await r.accept(payIn(order))
  await eventually(
    async () => sample(await r.metrics(), 'tylt_relay_forwarder_up') ?? -1,
    (up) => up === 0,
    20_000,
  )
  await page.reload()
  expect(await downstream.count()).toBe(1)
  expect(await shown(cell('State'))).toBe('DOWN')
  expect(await cell('Downstream').textContent()).toBe(
    `redis://:***@127.0.0.1:${redis.port}?stream=${stream} (redis)`,
  )
  expect(await cell('Last error').textContent()).toMatch(/ECONNREFUSED|not connected|closed/i)
  expect(await page.locator('#pending-count').textContent()).toBe('2 events')
  expect(await page.locator('#oldest-pending').textContent()).toMatch(
    /^\d+ (s|min) \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)$/,
  )
  expect(await page.locator('#dead-count').textContent()).toBe('0 dead letters')
  expect(await page.content()).not.toContain(password)

  await page.locator('#pending-count a').click()
  await page.getByRole('heading', { name: 'Events' }).waitFor()
  const states = await page.locator('#events tbody td[data-label="State"]').allInnerTexts()
  expect(states.map((s) => s.trim().toLowerCase())).toEqual(['pending', 'pending'])
  expect(r.output()).not.toContain(password)
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

test('a callback signed with a key the relay lacks is quarantined; once the key is in the secret file, Retry accepts it and the event is listed', async () => {
  const newKey = 'tylt-key-rotated-2026-3c81'
  const file = join(tempDir(), 'cpg')
  writeFileSync(file, `${SECRETS.cpg}\n`)
  const r = await relay({ OPS_TOKEN: TOKEN, TYLT_SECRET_CPG_FILE: file })
  // Tylt signs with the key rotated in its dashboard before it was added here.
  const body = payIn('ORD-ROTATED-1')
  expect(await post(`${r.url}/webhooks/cpg`, body, sign(newKey, body))).toEqual({
    status: 401,
    body: 'invalid signature',
  })
  const quarantined = async () => sample(await r.metrics(), 'tylt_relay_quarantine_requests') ?? -1
  await eventually(quarantined, (n) => n === 1)

  // On a phone, from the login page on.
  const page = await newPage()
  const traffic = recordTraffic(page)
  await page.setViewportSize({ width: 360, height: 740 })
  await page.goto(`${r.opsUrl}/console/login`)
  expect(await fitsWidth(page)).toBe(true)
  await logIn(page, r.opsUrl, TOKEN)
  expect(await page.locator('#quarantine-count a').textContent()).toBe('1 request')
  await page.getByRole('link', { name: 'Quarantine', exact: true }).click()
  await page.getByRole('heading', { name: 'Quarantine' }).waitFor()
  const rows = page.locator('#quarantine tbody tr')
  expect(await rows.count()).toBe(1)
  expect(await rows.textContent()).toContain('signature did not match')
  expect(await fitsWidth(page)).toBe(true)

  // Before the key is added, a retry changes nothing and says so.
  await page.getByRole('button', { name: 'Retry' }).click()
  await expect.poll(() => page.getByRole('status').textContent()).toContain('still does not verify')
  expect(await rows.count()).toBe(1)

  // Step 1 of the rotation, late: the new key first, the old one kept. The relay reads the file again.
  writeFileSync(file, `${newKey}\n${SECRETS.cpg}\n`)
  await expect.poll(() => r.output(), { timeout: 10_000 }).toContain('"secrets reloaded"')
  await page.getByRole('button', { name: 'Retry' }).click()
  await expect
    .poll(() => page.getByRole('status').textContent())
    .toMatch(/^Request q_\w+ verified with the current secrets and accepted; it is queued for delivery\.$/)
  expect(await page.locator('#no-quarantine').textContent()).toBe('Nothing is quarantined.')
  expect(await fitsWidth(page)).toBe(true)
  await page.getByRole('link', { name: 'Overview' }).click()
  expect(await page.locator('#quarantine-count a').textContent()).toBe('0 requests')

  await page.getByRole('link', { name: 'Events', exact: true }).click()
  const events = page.locator('#events tbody tr')
  expect(await events.count()).toBe(1)
  await events.getByRole('link', { name: 'ORD-ROTATED-1' }).click()
  await page.getByRole('heading', { name: 'Event ORD-ROTATED-1' }).waitFor()
  expect(await page.locator('#metadata').textContent()).toContain('quarantine')
  expect(await fitsWidth(page)).toBe(true)
  await page.goto(`${r.opsUrl}/console/events/evt_nothing`)
  await page.getByRole('heading', { name: 'Not found' }).waitFor()

  // Every page of the console was seen, and none asked anything of another site or named one.
  const paths = traffic.documents.map((d) => new URL(d.url).pathname)
  for (const path of [
    '/console/login',
    '/console',
    '/console/quarantine',
    '/console/events',
    '/console/events/evt_nothing',
  ])
    expect(paths).toContain(path)
  expect(paths.some((path) => /^\/console\/events\/evt_(?!nothing)\w+$/.test(path))).toBe(true)
  expect(traffic.requests.filter((url) => !url.startsWith(`${r.opsUrl}/`))).toEqual([])
  for (const document of traffic.documents) expect(await document.text).not.toMatch(/https?:\/\//)
}, 90_000)
