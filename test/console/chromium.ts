import type { Page } from 'playwright-core'

/** Debian's Chromium, kept off the network: no sandbox (containers), no GPU, no background traffic. */
export const CHROMIUM = {
  executablePath: '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
}

/** Logs in through the form, as an operator would, and lands on the overview. */
export async function logIn(page: Page, opsUrl: string, token: string): Promise<void> {
  await page.goto(`${opsUrl}/console`)
  await page.getByLabel('Ops token').fill(token)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.getByRole('heading', { name: 'Overview' }).waitFor()
}
