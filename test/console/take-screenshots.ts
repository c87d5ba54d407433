/**
 * Writes the console's screenshots in docs/ from a relay holding sample data, at a phone's width and a
 * desktop's: `npx tsx test/console/take-screenshots.ts`. Not a test: the pictures are committed and looked at.
 */
import { createHmac, createSecretKey } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { chromium, type Page } from 'playwright-core'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config/load-config.js'
import { SecretRegistry } from '../../src/config/secret-registry.js'
import { consoleMount } from '../../src/console/console-deps.js'
import { createMetrics } from '../../src/ops/metrics.js'
import { buildOpsApp } from '../../src/ops/ops-app.js'
import { GroupCommitStore } from '../../src/store/group-commit-store.js'
import { CHROMIUM, logIn } from './chromium.js'
import { MemoryQuarantineStore } from './memory-quarantine-store.js'

const TOKEN = 'screenshot-token-0123456789'
const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url))
const SECRETS = {
  cpg: 'cpg-secret-for-screenshots',
  upiNew: 'upi-secret-new-for-screenshots',
  upiOld: 'upi-secret-old-for-screenshots',
}
const TARGET = 'redis://redis.payments.svc:6379?stream=tylt-events'

const payIn = (order: string, status: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    type: 'pay-in',
    data: { orderId: `9b1e4c2a-${order}`, merchantOrderId: order, status, ...extra },
  })

async function seed(app: ReturnType<typeof buildApp>, store: GroupCommitStore) {
  const post = (service: string, secret: string, body: string) =>
    app.inject({
      method: 'POST',
      url: `/webhooks/${service}`,
      headers: { 'x-tlp-signature': createHmac('sha256', secret).update(body).digest('hex') },
      payload: body,
    })
  for (const [i, status] of ['Completed', 'Completed', 'Expired', 'Completed'].entries()) {
    await post(
      'cpg',
      SECRETS.cpg,
      payIn(`ORD-1004${i}`, status, { baseAmount: 120 + i, baseCurrency: 'USDT' }),
    )
  }
  const trade = (order: string, name: string) =>
    JSON.stringify({
      type: 'pay-in',
      data: {
        instanceId: 'inst_5521',
        merchantOrderId: order,
        trade: {
          isBuyTrade: true,
          fiatAmount: '1500.00',
          fiatCurrency: 'INR',
          event: { id: '4', name: 'completed' },
        },
        userDetails: { name, email: 'asha.verma@example.com', dob: '1990-04-12' },
      },
    })
  await post('prime-upi', SECRETS.upiOld, trade('UPI-3344', 'Ravi Kumar'))
  await post('prime-upi', SECRETS.upiNew, trade('UPI-3345', 'Asha Verma'))
  await post('prime-upi', SECRETS.upiNew, trade('UPI-3346', 'Meera Iyer'))
  const events = (await store.list({ limit: 100 })).reverse()
  const at = Date.now()
  await store.markDelivered(
    events.slice(0, 3).map((e) => e.seq),
    at,
    TARGET,
  )
  for (let i = 0; i < 3; i++) {
    await store.recordFailure(
      events[3]!.seq,
      at,
      TARGET,
      'Redis is not connected (connect ECONNREFUSED 10.0.3.7:6379)',
    )
  }
  await store.expire(at + 1, TARGET, 'Redis is not connected (connect ECONNREFUSED 10.0.3.7:6379)')
}

async function shoot(page: Page, url: string, name: string) {
  for (const [suffix, width] of [
    ['', 1280],
    ['-mobile', 360],
  ] as const) {
    await page.setViewportSize({ width, height: 800 })
    await page.goto(url)
    await page.screenshot({ path: join(DOCS, `${name}${suffix}.png`), fullPage: true })
  }
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'tylt-relay-shots-'))
  const config = loadConfig({
    TYLT_SECRET_CPG: SECRETS.cpg,
    TYLT_SECRET_PRIME_UPI: `${SECRETS.upiNew},${SECRETS.upiOld}`,
    DATA_DIR: dataDir,
  })
  const logger = pino({ level: 'silent' })
  const store = new GroupCommitStore(dataDir)
  const metrics = createMetrics({ stats: () => store.stats() })
  const app = buildApp(config, {
    logger,
    store,
    observers: metrics,
    secrets: new SecretRegistry(config.services, logger),
  })
  const quarantine = new MemoryQuarantineStore()
  quarantine.keep({ reason: 'mismatch', body: Buffer.from(payIn('ORD-10099', 'Completed')) })
  quarantine.keep({ reason: 'unknown_service', path: '/webhooks/cpg-eu', service: 'cpg-eu' })
  const ops = buildOpsApp({
    logger,
    store,
    metrics,
    console: consoleMount({
      token: createSecretKey(Buffer.from(TOKEN)),
      store,
      services: config.services.map((s) => s.name),
      registry: metrics.registry,
      quarantine,
      retryQuarantined: async () => 'refused',
      downstreams: () => [
        {
          kind: 'redis',
          target: TARGET,
          services: null,
          up: false,
          lastProgressAt: Date.now() - 4 * 60_000,
          lastError: 'Redis is not connected (connect ECONNREFUSED 10.0.3.7:6379)',
        },
      ],
    }),
  })
  await seed(app, store)
  const base = await ops.listen({ host: '127.0.0.1', port: 0 })
  const browser = await chromium.launch(CHROMIUM)
  try {
    const page = await browser.newPage()
    await logIn(page, base, TOKEN)
    await shoot(page, `${base}/console`, 'console-overview')
    const [trade] = await store.list({ limit: 1, order: 'UPI-3345' })
    await shoot(page, `${base}/console/events/${trade!.id}`, 'console-event')
    const [dead] = await store.list({ limit: 1, state: 'dead', order: 'ORD-10043' })
    await shoot(page, `${base}/console/events/${dead!.id}`, 'console-dead-letter')
    await shoot(page, `${base}/console/events`, 'console-events')
  } finally {
    await browser.close()
    await ops.close()
    await app.close()
    await store.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

await main()
