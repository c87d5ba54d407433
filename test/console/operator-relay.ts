import type { Page } from 'playwright-core'
import { expect, onTestFinished } from 'vitest'
import { SECRETS, sign, tempDir } from '../helpers/index.js'
import { post, startRelay } from '../helpers/relay-process.js'
import type { useBrowser } from './browser.js'
import { TOKEN } from './console-test-app.js'

/**
 * A relay process with the console and two services, `cpg` and `prime-upi`, in a temp folder; `env` adds
 * to or overrides its environment.
 */
export async function operatorRelay(env: Record<string, string> = {}) {
  const dataDir = tempDir('tylt-relay-operator-')
  const cpg = 'TYLT_SECRET_CPG_FILE' in env ? {} : { TYLT_SECRET_CPG: SECRETS.cpg }
  const relay = await startRelay(
    {
      ...cpg,
      TYLT_SECRET_PRIME_UPI: SECRETS.upiCurrent,
      OPS_TOKEN: TOKEN,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      ...env,
    },
    { cwd: dataDir },
  )
  /** Posts a callback signed with the service's secret; it must be accepted. */
  const accept = async (body: string, service: 'cpg' | 'prime-upi' = 'cpg') => {
    const secret = service === 'cpg' ? SECRETS.cpg : SECRETS.upiCurrent
    expect(await post(`${relay.url}/webhooks/${service}`, body, sign(secret, body))).toEqual({
      status: 200,
      body: 'ok',
    })
  }
  /** GET or POST on the console's JSON API with the token. */
  const api = async (path: string, init: RequestInit = {}) => {
    const answer = await fetch(`${relay.opsUrl}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers as Record<string, string>) },
    })
    return { status: answer.status, body: (await answer.json()) as Record<string, unknown> }
  }
  return { ...relay, dataDir, accept, api }
}

/** A page in a context of its own, closed when the test ends. */
export async function openPage(browser: ReturnType<ReturnType<typeof useBrowser>>): Promise<Page> {
  const context = await browser.newContext()
  onTestFinished(() => context.close())
  return context.newPage()
}

/** A UPI trade callback whose trade event has this id and name; its transaction is completed from event 4 on. */
export function upiTrade(merchantOrderId: string, eventId: number, name: string): string {
  const status = eventId >= 4 ? 'Completed' : 'Pending'
  return JSON.stringify({
    type: 'pay-in',
    data: {
      instanceId: `inst-${merchantOrderId}`,
      trade: {
        isBuyTrade: true,
        fiatAmount: 2400,
        fiatCurrency: 'INR',
        event: { id: eventId, name },
      },
      transaction: { merchantOrderId, status, utr: '412233445599' },
    },
  })
}
