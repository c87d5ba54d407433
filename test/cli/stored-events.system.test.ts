import { copyFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { describe, expect, it, onTestFinished } from 'vitest'
import { GroupCommitStore } from '../../src/store/group-commit-store.js'
import { uniqueName } from '../forward/sinks/helpers.js'
import { eventually, tempDir } from '../helpers/index.js'
import { listEvents, runCli, startRelay } from '../helpers/relay-process.js'

const EXAMPLE_ENV = fileURLToPath(new URL('../../.env.example', import.meta.url))
const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url))

/** The webhook ids a stream holds, in stream order. */
async function streamIds(stream: string): Promise<string[]> {
  const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true })
  onTestFinished(() => redis.disconnect())
  await redis.connect()
  const entries = await redis.xrange(stream, '-', '+')
  redis.disconnect()
  return entries.map(([, fields]) => fields[fields.indexOf('webhook-id') + 1]!)
}

describe('events accepted while their service had no downstream', () => {
  it('stay stored when a downstream is configured later, and reach it once through events replay', async () => {
    // The README's demo: .env copied from .env.example, the store only.
    const cwd = tempDir('tylt-relay-demo-')
    copyFileSync(EXAMPLE_ENV, join(cwd, '.env'))
    const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, env, undefined, { cwd })
    const send = async (url: string, file: string) => {
      const sent = await cli(['send', `${url}/webhooks/demo`, join(FIXTURES, file)])
      expect(sent.stdout).toBe('200 ok (accepted)\n')
      const [newest] = await listEvents({ DATA_DIR: join(cwd, 'data') })
      return newest!.id as string
    }
    const alone = await startRelay({}, { cwd })
    const demo: string[] = [await send(alone.url, 'cpg-pay-in.json'), await send(alone.url, 'upi-trade.json')]
    expect(await alone.stop()).toBe(0)
    const stateOf = async () =>
      (await listEvents({ DATA_DIR: join(cwd, 'data') })).map((e) => [e.id, e.state])
    expect(await stateOf()).toEqual([
      [demo[1], 'stored'],
      [demo[0], 'stored'],
    ])

    // The merchant adds their real stream.
    const stream = uniqueName('tylt-stored')
    const forward = { FORWARD_URL: `redis://127.0.0.1:6379?stream=${stream}` }
    const relay = await startRelay(forward, { cwd })
    await eventually(
      async () => relay.output(),
      (out) => out.includes('2 event(s) accepted while their service had no downstream stay stored'),
    )
    // Delivery follows acceptance order: once an event accepted now has arrived, a pending older one would
    // have arrived before it.
    const fresh = await send(relay.url, 'pix-pay-in.json')
    await eventually(
      () => streamIds(stream),
      (ids) => ids.includes(fresh),
    )
    expect(await streamIds(stream)).toEqual([fresh])
    const stored = await listEvents({ DATA_DIR: join(cwd, 'data') }, 'stored')
    expect(stored.map((e) => e.id)).toEqual([demo[1], demo[0]])

    const replayed = await cli(['events', 'replay', '--service', 'demo'], forward)
    expect(replayed).toEqual({
      code: 0,
      stdout: 'queued 2 stored event(s) of service demo for delivery\n',
      stderr: '',
    })
    await eventually(
      () => streamIds(stream),
      (ids) => ids.length >= 3,
    )
    const later = await send(relay.url, 'eu-pay-in.json')
    await eventually(
      () => streamIds(stream),
      (ids) => ids.includes(later),
    )
    expect(await streamIds(stream)).toEqual([fresh, demo[0], demo[1], later])
    expect(await cli(['events', 'replay', '--service', 'demo'], forward)).toMatchObject({
      stdout: 'queued 0 stored event(s) of service demo for delivery\n',
    })
  })

  it('are not queued by a replay while their service still has no downstream', async () => {
    const cwd = tempDir('tylt-relay-demo-')
    copyFileSync(EXAMPLE_ENV, join(cwd, '.env'))
    mkdirSync(join(cwd, 'data'))
    await new GroupCommitStore(join(cwd, 'data')).close()
    const replayed = await runCli(['events', 'replay', '--service', 'demo'], {}, undefined, { cwd })
    expect(replayed.code).toBe(2)
    expect(replayed.stderr).toContain(
      'service "demo" has no downstream: set FORWARD_URL (or its own FORWARD_URL_<NAME>) first; nothing was queued',
    )
  })
})
