import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import type { RefusedRequest } from '../../src/core/quarantine-store.js'
import { buildTestApp, eventually, sample, sign } from '../helpers/index.js'
import { freePort } from '../helpers/ports.js'
import { exchange, post } from './raw-http.js'

describe('a request whose sender has gone before it is verified', () => {
  it('is dropped unverified, counted as abandoned, and not quarantined', async () => {
    const seen: RefusedRequest[] = []
    const { app, metrics } = await buildTestApp({}, undefined, {
      quarantine: { refused: (r) => void seen.push(r) },
    })
    // Holds the first request after its body was read until its sender has closed the connection, as a
    // request waits behind a flood's while its sender gives up.
    let held = false
    let closeClient = () => {}
    app.addHook('preValidation', async (request) => {
      if (held) return
      held = true
      const closed = new Promise((resolve) => request.raw.socket.once('close', resolve))
      closeClient()
      await closed
    })
    const port = await freePort()
    await app.listen({ port, host: '127.0.0.1' })
    const forged = Buffer.from('{"type":"pay-in","data":{"orderId":"forged"}}')
    await new Promise<void>((resolve) => {
      const socket = connect({ port, host: '127.0.0.1' })
      closeClient = () => socket.destroy()
      socket.on('connect', () => socket.write(post('/webhooks/cpg', forged, sign('forged', forged))))
      socket.on('close', () => resolve())
    })
    const count = async (name: string, labels: Record<string, string> = {}) =>
      sample(await metrics.registry.metrics(), name, labels) ?? 0
    await eventually(
      () => count('tylt_relay_webhook_abandoned_total'),
      (n) => n === 1,
    )
    expect(await count('tylt_relay_verification_failures_total')).toBe(0)
    expect(seen).toEqual([])
    // The next forgery from the same address is verified and refused as usual.
    expect((await exchange(port, post('/webhooks/cpg', forged, sign('forged', forged)))).statuses).toEqual([
      401,
    ])
    expect(await count('tylt_relay_verification_failures_total', { reason: 'mismatch' })).toBe(1)
    expect(seen).toHaveLength(1)
  })
})
