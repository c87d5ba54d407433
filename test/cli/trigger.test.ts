import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { triggerBody } from '../../src/cli/trigger-bodies.js'
import { catalogue, FAMILIES, statesOf } from '../../src/cli/trigger-catalogue.js'
import { triggerCommand } from '../../src/cli/trigger-command.js'
import { sequenceTo, triggerPlan } from '../../src/cli/trigger-plan.js'
import { extractMetadata } from '../../src/event/extract-metadata.js'
import { FINALITY } from '../../src/event/finality-table.js'
import { SECRETS, sign } from '../helpers/index.js'

/** Runs `trigger` in-process; resolves with its exit code and output, or rejects with its error. */
async function run(args: string[], values: Record<string, string | boolean> = {}) {
  let stdout = ''
  let stderr = ''
  const sink = (into: (text: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        into(String(chunk))
        done()
      },
    })
  const code = await triggerCommand.run({
    positionals: args,
    values,
    env: { TYLT_SECRET_CPG: SECRETS.cpg, DATA_DIR: '/nonexistent', PORT: '1' },
    stdout: sink((t) => (stdout += t)),
    stderr: sink((t) => (stderr += t)),
  })
  return { code, stdout, stderr }
}

describe('trigger --list', () => {
  it('has a row for every (product, state) of the finality table and no other', async () => {
    const rows = catalogue()
    const covered = new Set(rows.map((r) => `${r.product} ${r.wire.toLowerCase()}`))
    const table = Object.entries(FINALITY).flatMap(([product, states]) =>
      Object.keys(states ?? {}).map((state) => `${product} ${state}`),
    )
    expect([...covered].sort()).toEqual(table.sort())
    // Every family names each state once, by name and by wire value.
    for (const family of FAMILIES) {
      const own = statesOf(family)
      expect(new Set(own.map((r) => r.state)).size).toBe(own.length)
      expect(new Set(own.map((r) => r.wire.toLowerCase())).size).toBe(own.length)
    }
    const { code, stdout } = await run([], { list: true, json: true })
    expect(code).toBe(0)
    expect(JSON.parse(stdout)).toEqual(rows)
  })

  it('gives a pending outcome to a state that is not final and a decided one to every documented final state', () => {
    for (const row of catalogue()) {
      if (row.final === 'false') expect(row.outcome, `${row.family} ${row.state}`).toBe('pending')
      if (row.final === 'unknown') expect(row.outcome, `${row.family} ${row.state}`).toBe('unknown')
      if (row.final === 'true') expect(row.outcome, `${row.family} ${row.state}`).not.toBe('unknown')
    }
    expect(catalogue().find((r) => r.family === 'eu-pay-in' && r.wire === '7')?.outcome).toBe('refunded')
    expect(
      catalogue()
        .filter((r) => r.family === 'php')
        .map((r) => r.final),
    ).toEqual(statesOf(FAMILIES.find((f) => f.name === 'php')!).map(() => 'unknown'))
  })
})

describe('trigger bodies', () => {
  it('read back, through the relay metadata extractor, as the row that made them', () => {
    for (const family of FAMILIES)
      for (const row of statesOf(family)) {
        const body = triggerBody(
          family,
          { merchantOrderId: 'ORD-1', at: 1_800_000_000_000 },
          row.wire,
          row.state,
        )
        const metadata = extractMetadata(body)
        const what = `${row.family} ${row.state}`
        expect({ ...metadata, orderId: typeof metadata.orderId }, what).toEqual({
          orderId: 'string',
          merchantOrderId: 'ORD-1',
          status: row.wire,
          product: row.product,
          final: row.final,
          // A CPG pay-in expires 25 minutes after it is made; no other family states a deadline.
          deadline: row.product === 'cpg-pay-in' ? 1_800_000_000_000 + 1_500_000 : null,
        })
      }
  })

  it('keep Tylt ids for one merchant order id across calls, and differ between orders', () => {
    const upi = FAMILIES.find((f) => f.name === 'upi')!
    const id = (order: string, at: number) =>
      extractMetadata(triggerBody(upi, { merchantOrderId: order, at }, '2', 'awaiting-payment')).orderId
    expect(id('A', 1)).toBe(id('A', 2))
    expect(id('A', 1)).not.toBe(id('B', 1))
  })
})

describe('trigger FAMILY STATE', () => {
  it('plans a lifecycle in order', () => {
    const keys = (family: string, state?: string) => triggerPlan(family, state, true).steps.map((s) => s.wire)
    expect(keys('upi')).toEqual(['1', '2', '3', '4'])
    expect(keys('upi', '9')).toEqual(['1', '2', '3', '9'])
    expect(keys('eu-pay-in', 'refunded')).toEqual(['1', '2', '3', '4', '5', '6', '7'])
    expect(keys('eu-payout')).toEqual(['1', '2', '3', '11', '4', '5'])
    expect(keys('cpg-pay-in', 'expired')).toEqual(['Pending', 'Expired'])
    expect(keys('inr-payout', 'failed')).toEqual(['created', 'initiated', 'processing', 'failed'])
    const upi = FAMILIES.find((f) => f.name === 'upi')!
    expect(sequenceTo(upi, undefined).every((r) => r.family === 'upi')).toBe(true)
  })

  it('finds a state by wire value or by name, in any case', () => {
    expect(triggerPlan('cpg-pay-in', 'under payment', false).steps[0]!.wire).toBe('Under Payment')
    expect(triggerPlan('cpg-pay-in', 'Under-Payment', false).steps[0]!.wire).toBe('Under Payment')
    expect(triggerPlan('UPI', 'awaiting-payment', false).steps[0]!.wire).toBe('2')
    expect(triggerPlan('upi', 'completed', false).steps[0]!.wire).toBe('4')
    expect(triggerPlan('upi', 'transaction-completed', false).steps[0]!.wire).toBe('Completed')
    expect(triggerPlan('inr-payout', 'Completed', false).steps[0]!.wire).toBe('completed')
  })

  it('says which family or state was meant', async () => {
    await expect(run(['upx', '4'])).rejects.toThrow('unknown family "upx"; did you mean "upi"?')
    await expect(run(['upi', 'expird'])).rejects.toThrow('upi has no state "expird"; did you mean "expired"?')
    await expect(run(['upi', 'zzzzzz'])).rejects.toThrow(
      /upi has no state "zzzzzz"; one of created, initiated/,
    )
    await expect(run(['upi'])).rejects.toThrow('trigger upi needs a STATE (or --sequence)')
  })

  it('prints the signed request with --print, signed with the current secret over the exact bytes', async () => {
    const { code, stdout } = await run(['pix-pay-in', 'completed'], { print: true, order: 'PIX-1' })
    expect(code).toBe(0)
    const [head, body] = stdout.split('\n\n')
    expect(head!.split('\n')[0]).toBe('POST http://127.0.0.1:1/webhooks/cpg')
    const signature = /^x-tlp-signature: ([0-9a-f]{64})$/m.exec(head!)![1]
    expect(signature).toBe(sign(SECRETS.cpg, body!.trimEnd()))
    expect(extractMetadata(Buffer.from(body!.trimEnd())).merchantOrderId).toBe('PIX-1')
    expect(stdout).not.toContain(SECRETS.cpg)
  })

  it('refuses a URL that is not on this machine unless --allow-remote', async () => {
    await expect(run(['upi', '4', 'http://192.0.2.1/webhooks/cpg'])).rejects.toThrow(
      '192.0.2.1 is not this machine; add --allow-remote to send there anyway',
    )
  })
})
