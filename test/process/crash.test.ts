import { describe, expect, it } from 'vitest'
import { fixture } from '../helpers/fixtures.js'
import { SECRETS, sign, tempDir } from '../helpers/index.js'
import { post, runCli, startRelay } from '../helpers/relay-process.js'

const env = (dataDir: string) => ({ TYLT_SECRET_CPG: SECRETS.cpg, DATA_DIR: dataDir })

describe('a real relay process', () => {
  it('keeps every event it answered ok for, when SIGKILLed in the middle of a stream of callbacks', async () => {
    const dataDir = tempDir()
    const relay = await startRelay(env(dataDir))
    const acknowledged: string[] = []
    let killed = false
    // 8 senders keep callbacks in flight; the relay is killed the moment the 60th "ok" arrives, while others
    // are still being committed. Only what was answered "ok" is owed to the merchant.
    const sender = async (lane: number) => {
      for (let i = 0; !killed; i++) {
        const orderId = `crash-${lane}-${i}`
        const body = Buffer.from(JSON.stringify({ type: 'pay-in', data: { orderId, status: 'Completed' } }))
        const answer = await post(`${relay.url}/webhooks/cpg`, body, sign(SECRETS.cpg, body)).catch(
          () => undefined,
        )
        if (answer?.status === 200 && answer.body === 'ok' && !killed) {
          acknowledged.push(orderId)
          if (acknowledged.length === 60) {
            killed = true
            relay.child.kill('SIGKILL')
          }
        }
      }
    }
    await Promise.all(Array.from({ length: 8 }, (_, lane) => sender(lane)))
    expect(await relay.stop('SIGKILL')).toBe('SIGKILL')

    const restarted = await startRelay(env(dataDir))
    const listed = await runCli(['events', 'list', '--json', '--limit', '100000'], env(dataDir))
    expect(listed.code).toBe(0)
    const stored = new Set((JSON.parse(listed.stdout) as { orderId: string }[]).map((e) => e.orderId))
    expect(acknowledged.filter((orderId) => !stored.has(orderId))).toEqual([])
    expect(await restarted.stop()).toBe(0)
  })

  it('answers 413 for a body over BODY_LIMIT on a real socket, and ok for a genuine callback', async () => {
    const dataDir = tempDir()
    const relay = await startRelay({ ...env(dataDir), BODY_LIMIT: '2048' })
    const big = Buffer.alloc(64 * 1024, 0x61)
    expect(await post(`${relay.url}/webhooks/cpg`, big, sign(SECRETS.cpg, big))).toEqual({
      status: 413,
      body: 'payload too large',
    })
    const body = fixture('cpg-pay-in.json')
    expect(await post(`${relay.url}/webhooks/cpg`, body, sign(SECRETS.cpg, body))).toEqual({
      status: 200,
      body: 'ok',
    })
    const listed = JSON.parse((await runCli(['events', 'list', '--json'], env(dataDir))).stdout) as unknown[]
    expect(listed).toHaveLength(1)
  })

  it('exits 0 on SIGTERM after finishing', async () => {
    const relay = await startRelay(env(tempDir()))
    expect(await relay.stop('SIGTERM')).toBe(0)
    expect(relay.output()).toMatch(/"msg":"stopped; 0 events pending"/)
  })
})
