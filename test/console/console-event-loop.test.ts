import { spawn } from 'node:child_process'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { describe, expect, test } from 'vitest'
import { MASK } from '../../src/console/mask-personal-data.js'
import { eventually, SECRETS } from '../helpers/index.js'
import { buildConsoleApp, payIn } from './console-test-app.js'

const DEPTH = 5_000
/** A genuine callback holding one 250 KB string with no `@`: the worst case of an e-mail pattern. */
const longNote = payIn('ORD-LONG', { note: 'a.'.repeat(125_000) })
/** A genuine callback nested 5,000 deep (built as text: JSON.stringify itself would overflow the stack). */
const deep = payIn('ORD-DEEP').replace(/}}$/, `,"extra":${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}}}`)

/**
 * Genuine callbacks, four at a time, from another process (so that the client's work is not on the loop
 * measured), until its stdin closes; then it prints every answer, one a line.
 */
const FLOW = `
const { createHmac } = require('node:crypto')
const answers = []
let flowing = true
process.stdin.on('end', () => { flowing = false }).resume()
const worker = async (w) => {
  for (let n = 0; flowing; n++) {
    const body = JSON.stringify({ type: 'pay-in', data: { orderId: 'o-' + w + '-' + n, merchantOrderId: 'FLOW-' + w + '-' + n, status: 'Completed' } })
    const signature = createHmac('sha256', process.env.SECRET).update(body).digest('hex')
    const response = await fetch(process.env.URL, { method: 'POST', headers: { 'x-tlp-signature': signature }, body })
    answers.push(response.status + ' ' + (await response.text()))
    if (answers.length === 10) process.stderr.write('flowing\\n')
  }
}
Promise.all([0, 1, 2, 3].map(worker)).then(() => process.stdout.write(answers.join('\\n')))
`

function callbackFlow(url: string) {
  const child = spawn(process.execPath, ['-e', FLOW], {
    env: { PATH: process.env.PATH ?? '', URL: url, SECRET: SECRETS.cpg },
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk))
  const done = new Promise<string[]>((resolve) => child.on('close', () => resolve(stdout.split('\n'))))
  return {
    started: () =>
      eventually(
        async () => stderr,
        (text) => text.includes('flowing'),
      ),
    stop: () => {
      child.stdin.end()
      return done
    },
  }
}

describe('opening a large event in the console while callbacks arrive', () => {
  test('every callback is answered ok, the loop is never held 50 ms, the pages answer 200', async () => {
    const app = await buildConsoleApp()
    const webhooks = await app.app.listen({ port: 0, host: '127.0.0.1' })
    const ops = await app.ops.listen({ port: 0, host: '127.0.0.1' })
    await app.accept(longNote)
    await app.accept(deep)
    const [long] = await app.store.list({ limit: 1, order: 'ORD-LONG' })
    const [nested] = await app.store.list({ limit: 1, order: 'ORD-DEEP' })
    const { cookie } = await app.login()
    const flow = callbackFlow(`${webhooks}/webhooks/cpg`)
    await flow.started()

    // On a loaded machine the scheduler alone pauses a process for tens of milliseconds now and then (an idle
    // process here saw 20-30 ms, the callback flow alone up to 75): the views are measured up to five times,
    // and must hold the loop under 50 ms in one of them. Unbounded work (a pattern that backtracks, a
    // recursion) fails every round.
    const rounds: number[] = []
    const pages: { status: number; text: string }[] = []
    // The opening pass also compiles the code it runs; it is answered and checked, not timed.
    for (let round = 0; round < 6 && !rounds.slice(1).some((ms) => ms < 50); round++) {
      const delay = monitorEventLoopDelay({ resolution: 1 })
      delay.enable()
      for (const event of [long!, nested!]) {
        const response = await fetch(`${ops}/console/events/${event.id}`, { headers: { cookie } })
        pages.push({ status: response.status, text: await response.text() })
      }
      delay.disable()
      rounds.push(delay.max / 1e6)
    }
    const answers = await flow.stop()

    expect(pages.map((p) => p.status)).toEqual(pages.map(() => 200))
    expect(pages[0]!.text).toContain(`&quot;note&quot;: &quot;${MASK}&quot;`)
    expect(pages[0]!.text).not.toContain('a.a.a.a.')
    expect(pages[1]!.text).toContain('&quot;a&quot;: {')
    expect(pages[1]!.text).toContain('too large to show whole')
    expect(answers.length).toBeGreaterThan(10)
    expect(answers.filter((a) => a !== '200 ok')).toEqual([])
    expect(
      Math.min(...rounds.slice(1)),
      `largest event-loop delay per round: ${rounds.map((ms) => ms.toFixed(1)).join(', ')} ms`,
    ).toBeLessThan(50)
  }, 60_000)
})
