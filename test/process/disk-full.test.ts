import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { eventually, SECRETS, sign, tempDir } from '../helpers/index.js'
import { post, runCli, startRelay } from '../helpers/relay-process.js'

/** A real full disk: a 2 MiB tmpfs. Mounting needs root, which this machine and its CI have. */
function smallDisk(): string | undefined {
  const dir = tempDir('tylt-relay-full-')
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir]).status !== 0) return undefined
  onTestFinished(() => {
    spawnSync('umount', ['-l', dir])
  })
  return dir
}

const canMount = process.getuid?.() === 0

describe.skipIf(!canMount)('a store on a full disk', () => {
  it('answers 503 with Retry-After, acknowledges nothing, and recovers when space returns', async () => {
    const disk = smallDisk()
    expect(disk, 'mounting a tmpfs failed').toBeDefined()
    const dataDir = join(disk!, 'data')
    mkdirSync(dataDir)
    const env = { TYLT_SECRET_CPG: SECRETS.cpg, DATA_DIR: dataDir }
    const relay = await startRelay(env)
    const callback = (i: number) =>
      Buffer.from(JSON.stringify({ type: 'pay-in', data: { orderId: `full-${i}`, pad: 'x'.repeat(4000) } }))
    const first = callback(0)
    expect(await post(`${relay.url}/webhooks/cpg`, first, sign(SECRETS.cpg, first))).toEqual({
      status: 200,
      body: 'ok',
    })

    // Fill what is left of the disk.
    const filler = join(disk!, 'filler')
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k'], { stdio: 'ignore' })
    } catch {
      // dd stops with "No space left on device": that is the point.
    }
    const refused: number[] = []
    let sawRetryAfter = false
    for (let i = 1; i <= 40 && refused.length < 3; i++) {
      const body = callback(i)
      const response = await fetch(`${relay.url}/webhooks/cpg`, {
        method: 'POST',
        headers: { 'x-tlp-signature': sign(SECRETS.cpg, body) },
        body,
      })
      const text = await response.text()
      if (response.status === 503) {
        refused.push(i)
        sawRetryAfter ||= response.headers.get('retry-after') === '5'
        expect(text).not.toBe('ok')
      } else {
        expect([response.status, text]).toEqual([200, 'ok'])
      }
    }
    expect(refused.length).toBeGreaterThan(0)
    expect(sawRetryAfter).toBe(true)
    // Log lines are written in batches (at most 100 ms late).
    await eventually(
      async () => relay.output(),
      (text) => text.includes('event not made durable'),
      2_000,
    )

    rmSync(filler)
    const later = callback(99)
    expect(await post(`${relay.url}/webhooks/cpg`, later, sign(SECRETS.cpg, later))).toEqual({
      status: 200,
      body: 'ok',
    })
    expect(await relay.stop()).toBe(0)

    const stored = (
      JSON.parse((await runCli(['events', 'list', '--json', '--limit', '1000'], env)).stdout) as {
        orderId: string
      }[]
    ).map((e) => e.orderId)
    expect(stored).toContain('full-0')
    expect(stored).toContain('full-99')
    for (const i of refused) expect(stored).not.toContain(`full-${i}`)
  })
})
