import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { RelayEvent } from '../../../../src/core/event.js'
import { RedisSink } from '../../../../src/forward/sinks/redis/redis-sink.js'
import { tempDir } from '../../../helpers/index.js'
import {
  freePort,
  freeze,
  makeEvents,
  redisServerArgs,
  sleep,
  startProcess,
  stopProcess,
  uniqueName,
} from '../helpers.js'

const SHARED = 'redis://127.0.0.1:6379'

function sinkFor(url: string, stream: string, timeoutMs?: number): RedisSink {
  const sink = new RedisSink({ url, stream, redacted: url, timeoutMs })
  onTestFinished(() => sink.close())
  return sink
}

/** A plain consumer: what the stream really holds, fields and values as raw bytes. */
async function readStream(url: string, stream: string): Promise<Map<string, Buffer>[]> {
  const redis = new Redis(url)
  try {
    const entries = await redis.xrangeBuffer(stream, '-', '+')
    return entries.map(([, fields]) => {
      const map = new Map<string, Buffer>()
      for (let i = 0; i < fields.length; i += 2) map.set(fields[i]!.toString(), fields[i + 1]!)
      return map
    })
  } finally {
    redis.disconnect()
  }
}

function expectEntries(entries: Map<string, Buffer>[], events: readonly RelayEvent[]): void {
  expect(entries).toHaveLength(events.length)
  for (const [index, entry] of entries.entries()) {
    const event = events[index]!
    expect(entry.get('body')?.equals(event.body)).toBe(true)
    expect(entry.get('webhook-id')?.toString()).toBe(event.id)
    expect(entry.get('webhook-timestamp')?.toString()).toBe(String(Math.floor(event.acceptedAt / 1000)))
    expect(entry.get('tylt-service')?.toString()).toBe(event.service)
    expect(entry.get('tylt-signature')?.toString()).toBe(event.signature)
    expect(entry.get('tylt-order-id')?.toString()).toBe(event.orderId ?? undefined)
    expect(entry.get('tylt-status')?.toString()).toBe(event.status ?? undefined)
  }
}

describe('RedisSink', () => {
  it('appends every event once, in order, with byte-exact bodies and metadata fields', async () => {
    const stream = uniqueName('tylt-test')
    onTestFinished(async () => {
      const redis = new Redis(SHARED)
      await redis.del(stream)
      redis.disconnect()
    })
    const sink = sinkFor(SHARED, stream)
    const events = makeEvents(9)
    const first = await sink.send(events.slice(0, 4))
    const second = await sink.send(events.slice(4))
    expect(first.delivered).toBe(4)
    expect(second.delivered).toBe(5)
    expect(await sink.send([])).toMatchObject({ delivered: 0 })
    expectEntries(await readStream(SHARED, stream), events)
    // Each event's answer is the id of its stream entry.
    const redis = new Redis(SHARED)
    const ids = (await redis.xrange(stream, '-', '+')).map(([id]) => id)
    redis.disconnect()
    expect([...(first.answers ?? []), ...(second.answers ?? [])]).toEqual(ids.map((id) => ({ text: id })))
  })

  it('reports a Redis error as a failure at the first event', async () => {
    const key = uniqueName('tylt-test-not-a-stream')
    const redis = new Redis(SHARED)
    onTestFinished(async () => {
      await redis.del(key)
      redis.disconnect()
    })
    await redis.set(key, 'a plain string')
    const sink = sinkFor(SHARED, key)
    const result = await sink.send(makeEvents(2))
    expect(result.delivered).toBe(0)
    expect(result.error?.message).toMatch(/^XADD to Redis failed: WRONGTYPE/)
    // The key is the operator's to fix, and every event would fail the same way: an outage, not a refusal.
    expect(result.permanent).toBeUndefined()
    expect(await redis.get(key)).toBe('a plain string')
    expect(await sink.check()).toBe(
      `Redis downstream ${SHARED}: key "${key}" holds a string, not a stream; every XADD fails (WRONGTYPE)`,
    )
  })

  it('fails fast, without hanging, when Redis was never reachable', async () => {
    const sink = sinkFor(`redis://127.0.0.1:${await freePort()}`, uniqueName('tylt-none'), 2_000)
    const started = Date.now()
    const result = await sink.send(makeEvents(1))
    expect(Date.now() - started).toBeLessThan(1_500)
    expect(result).toMatchObject({
      delivered: 0,
      error: { message: expect.stringMatching(/ECONNREFUSED|not connected/) },
    })
  })

  it('fails fast while Redis is down and recovers by itself when it returns', async () => {
    const port = await freePort()
    const dir = mkdtempSync(join(tmpdir(), 'tylt-redis-'))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const args = redisServerArgs(port, dir)
    let server = await startProcess('redis-server', args, port)
    onTestFinished(() => stopProcess(server))
    const url = `redis://127.0.0.1:${port}`
    const stream = uniqueName('tylt-outage')
    const sink = sinkFor(url, stream, 2_000)
    const [before, during, after] = [makeEvents(2), makeEvents(2), makeEvents(3)]
    await sleep(100)
    expect(await sink.send(before)).toMatchObject({ delivered: 2 })

    await stopProcess(server)
    for (let attempt = 0; attempt < 3; attempt++) {
      const started = Date.now()
      const result = await sink.send(during)
      expect(result.delivered).toBe(0)
      expect(result.error?.message).toMatch(/Redis/)
      expect(Date.now() - started).toBeLessThan(500)
    }

    server = await startProcess('redis-server', args, port)
    const deadline = Date.now() + 10_000
    let result = await sink.send(after)
    while (result.delivered === 0 && Date.now() < deadline) {
      await sleep(100)
      result = await sink.send(after)
    }
    expect(result).toMatchObject({ delivered: 3 })
    // The restarted server starts empty: only what was sent after the restart, nothing from the outage.
    expectEntries(await readStream(url, stream), after)
  })
})

/** A private Redis on a free port, with `extra` settings; killed when the test ends. */
async function privateRedis(extra: readonly string[] = []) {
  const port = await freePort()
  const dir = tempDir('tylt-redis-')
  const args = redisServerArgs(port, dir)
  const server = await startProcess('redis-server', [...args, ...extra], port)
  onTestFinished(() => stopProcess(server))
  return { server, url: `redis://127.0.0.1:${port}` }
}

describe('RedisSink: refusals, stopping, readiness', () => {
  it("refuses for good an event over the server's proto-max-bulk-len before sending it, and only that one", async () => {
    const { url } = await privateRedis(['--proto-max-bulk-len', '1mb'])
    const stream = uniqueName('tylt-large')
    const sink = sinkFor(url, stream, 3_000)
    const [first, second, third] = makeEvents(3)
    const large = { ...second!, body: Buffer.alloc(1_200_000, 0x61) }
    const refusal = {
      delivered: 1,
      permanent: true,
      error: expect.objectContaining({
        message:
          "XADD to Redis refused the event: its 1200000 bytes are over the server's proto-max-bulk-len (1048576)",
      }),
    }
    expect(await sink.send([first!, large, third!])).toEqual(refusal)
    // Every time, not by luck of a race with the connection Redis would close: it was never sent.
    for (let i = 0; i < 5; i++) expect(await sink.send([large])).toEqual({ ...refusal, delivered: 0 })
    // The connection is still up, so the next event goes straight through.
    expect(await sink.send([third!])).toMatchObject({ delivered: 1 })
    expectEntries(await readStream(url, stream), [first!, third!])
  })

  it('where CONFIG is not allowed, an oversized event is never confirmed and the sink recovers after it', async () => {
    const { url } = await privateRedis(['--proto-max-bulk-len', '1mb', '--rename-command', 'CONFIG', '""'])
    const stream = uniqueName('tylt-large-noconfig')
    const sink = sinkFor(url, stream, 3_000)
    const [first, second, third] = makeEvents(3)
    const large = { ...second!, body: Buffer.alloc(1_200_000, 0x61) }
    expect(await sink.send([first!])).toMatchObject({ delivered: 1 })
    // Redis refuses it and closes the connection: the refusal, when its answer arrives before the reset,
    // is for good; otherwise it is an outage, retried. Never a delivery.
    for (let i = 0; i < 5; i++) {
      const result = await sink.send([large])
      expect(result.delivered).toBe(0)
      if (result.permanent === true) {
        expect(result.error?.message).toBe(
          'XADD to Redis refused: ERR Protocol error: invalid bulk length: the event is larger than this Redis takes (proto-max-bulk-len)',
        )
      } else {
        expect(result.error?.message).toMatch(/Redis/)
      }
      await sleep(50)
    }
    const deadline = Date.now() + 10_000
    let next = await sink.send([third!])
    while (next.delivered === 0 && Date.now() < deadline) {
      await sleep(100)
      next = await sink.send([third!])
    }
    expect(next).toMatchObject({ delivered: 1 })
    expectEntries(await readStream(url, stream), [first!, third!])
  })

  it('stops waiting for a Redis that does not answer when told to, confirming nothing', async () => {
    const { server, url } = await privateRedis()
    const sink = sinkFor(url, uniqueName('tylt-stalled'), 20_000)
    expect(await sink.send(makeEvents(1))).toMatchObject({ delivered: 1 })
    await freeze(server.pid!)
    const stop = new AbortController()
    setTimeout(() => stop.abort(), 200)
    const started = Date.now()
    const result = await sink.send(makeEvents(2), stop.signal)
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(result.delivered).toBe(0)
    expect(result.error?.message).toMatch(/sending was stopped/)
  })

  it('warns at start when Redis cannot be reached, and not when the stream is usable', async () => {
    const port = await freePort()
    const down = sinkFor(`redis://127.0.0.1:${port}`, 's', 2_000)
    const warning = await down.check()
    expect(warning).toMatch(
      new RegExp(`^Redis downstream redis://127\\.0\\.0\\.1:${port} is not reachable \\(.*ECONNREFUSED`),
    )
    const { url } = await privateRedis()
    expect(await sinkFor(url, uniqueName('tylt-ready'), 2_000).check()).toBeUndefined()
  })
})
