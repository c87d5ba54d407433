import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type JetStreamManager, jetstreamManager, type StoredMsg } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { RelayEvent } from '../../../../src/core/event.js'
import { NatsSink } from '../../../../src/forward/sinks/nats/nats-sink.js'
import { tempDir } from '../../../helpers/index.js'
import { freePort, freeze, makeEvents, sleep, startProcess, stopProcess, uniqueName } from '../helpers.js'

const SHARED = '127.0.0.1:4222'

/** A stream capturing a fresh subject, deleted (with the admin connection) after the test. */
async function streamOn(
  server: string,
): Promise<{ jsm: JetStreamManager; nc: NatsConnection; name: string; subject: string }> {
  const nc = await connect({ servers: server })
  const jsm = await jetstreamManager(nc)
  const name = uniqueName('tylt_test').replace(/-/g, '_')
  const subject = `tylt.test.${name}`
  await jsm.streams.add({ name, subjects: [subject] })
  onTestFinished(async () => {
    await jsm.streams.delete(name).catch(() => undefined)
    await nc.close()
  })
  return { jsm, nc, name, subject }
}

function sinkFor(server: string, subject: string, timeoutMs = 3_000): NatsSink {
  const sink = new NatsSink({ server, subject, redacted: `nats://${server}`, timeoutMs })
  onTestFinished(() => sink.close())
  return sink
}

/** Everything the stream holds, read back one message at a time, as a consumer would see it. */
async function storedMessages(jsm: JetStreamManager, name: string): Promise<StoredMsg[]> {
  const info = await jsm.streams.info(name)
  const messages: StoredMsg[] = []
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    messages.push(await jsm.streams.getMessage(name, { seq }).then((m) => m!))
  }
  return messages
}

function expectMessages(messages: StoredMsg[], events: readonly RelayEvent[]): void {
  expect(messages.map((m) => m.header.get('Nats-Msg-Id'))).toEqual(events.map((e) => e.id))
  for (const [index, message] of messages.entries()) {
    const event = events[index]!
    expect(Buffer.from(message.data).equals(event.body)).toBe(true)
    expect(message.header.get('webhook-id')).toBe(event.id)
    expect(message.header.get('webhook-timestamp')).toBe(String(Math.floor(event.acceptedAt / 1000)))
    expect(message.header.get('tylt-service')).toBe(event.service)
    expect(message.header.get('tylt-signature')).toBe(event.signature)
    expect(message.header.get('tylt-order-id')).toBe(event.orderId ?? '')
  }
}

describe('NatsSink', () => {
  it('publishes every event once, in order, byte-exact, with metadata headers', async () => {
    const { jsm, name, subject } = await streamOn(SHARED)
    const sink = sinkFor(SHARED, subject)
    const events = makeEvents(25)
    expect(await sink.send(events.slice(0, 20))).toMatchObject({ delivered: 20 })
    expect(await sink.send(events.slice(20))).toMatchObject({ delivered: 5 })
    expect(await sink.send([])).toMatchObject({ delivered: 0 })
    expectMessages(await storedMessages(jsm, name), events)
  })

  it('lets JetStream drop a re-sent event by its Nats-Msg-Id', async () => {
    const { jsm, name, subject } = await streamOn(SHARED)
    const sink = sinkFor(SHARED, subject)
    const events = makeEvents(3)
    expect(await sink.send(events)).toEqual({
      delivered: 3,
      answers: [1, 2, 3].map((seq) => ({ text: `${name} seq ${seq}` })),
    })
    // A retry from index 1 after a partial failure: counted as delivered, stored once; the ack says so.
    expect(await sink.send(events.slice(1))).toEqual({
      delivered: 2,
      answers: [2, 3].map((seq) => ({ text: `${name} seq ${seq} (duplicate)` })),
    })
    expect(await sink.send([events[0]!, events[0]!])).toMatchObject({ delivered: 2 })
    expectMessages(await storedMessages(jsm, name), events)
  })

  it('fails when no stream captures the subject', async () => {
    const sink = sinkFor(SHARED, `tylt.test.${uniqueName('nostream')}`)
    const result = await sink.send(makeEvents(2))
    expect(result.delivered).toBe(0)
    expect(result.error?.message).toMatch(/no JetStream stream captures subject "tylt\.test\.nostream-/)
    // A stream may be added at any time: an outage, not a refusal.
    expect(result.permanent).toBeUndefined()
  })

  it('fails fast when NATS cannot be reached', async () => {
    const sink = sinkFor(`127.0.0.1:${await freePort()}`, 'tylt.none')
    const started = Date.now()
    const result = await sink.send(makeEvents(1))
    expect(Date.now() - started).toBeLessThan(1_500)
    expect(result).toMatchObject({
      delivered: 0,
      error: { message: expect.stringMatching(/cannot connect to NATS/) },
    })
  })

  it('fails fast while the server is down and resumes after it returns, nothing lost or doubled', async () => {
    const port = await freePort()
    const dir = mkdtempSync(join(tmpdir(), 'tylt-nats-'))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const args = ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir]
    let server = await startProcess('nats-server', args, port)
    onTestFinished(() => stopProcess(server))
    const address = `127.0.0.1:${port}`
    const admin = await streamOn(address)
    const sink = sinkFor(address, admin.subject, 3_000)
    const [before, during, after] = [makeEvents(3), makeEvents(2), makeEvents(4)]
    expect(await sink.send(before)).toMatchObject({ delivered: 3 })

    await stopProcess(server)
    await sleep(200)
    for (let attempt = 0; attempt < 3; attempt++) {
      const started = Date.now()
      const result = await sink.send(during)
      expect(result.delivered).toBe(0)
      expect(Date.now() - started).toBeLessThan(1_000)
    }

    server = await startProcess('nats-server', args, port)
    const deadline = Date.now() + 15_000
    let result = await sink.send(after)
    while (result.delivered < after.length && Date.now() < deadline) {
      await sleep(200)
      result = await sink.send(after)
    }
    expect(result).toMatchObject({ delivered: 4 })
    // The file store survived the restart: the first batch and the last, and nothing from the outage.
    // A fresh reader, as the admin connection may still be waiting to reconnect.
    const reader = await connect({ servers: address })
    onTestFinished(() => reader.close())
    expectMessages(await storedMessages(await jetstreamManager(reader), admin.name), [...before, ...after])
  })
})

/** A private nats-server with JetStream and the given config lines; killed when the test ends. */
async function privateNats(config: string): Promise<{ address: string; server: ChildProcess }> {
  const port = await freePort()
  const dir = tempDir('tylt-nats-')
  writeFileSync(join(dir, 'server.conf'), config)
  const args = ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir, '-c', join(dir, 'server.conf')]
  const server = await startProcess('nats-server', args, port)
  onTestFinished(() => stopProcess(server))
  return { address: `127.0.0.1:${port}`, server }
}

describe('NatsSink: refusals, stopping, readiness', () => {
  it("refuses for good an event over the server's max_payload, and only that one", async () => {
    const { address } = await privateNats('max_payload: 4096\n')
    const { jsm, name, subject } = await streamOn(address)
    const sink = sinkFor(address, subject)
    const [first, second, third] = makeEvents(3)
    const large = { ...second!, body: Buffer.alloc(5_000, 0x61) }
    const result = await sink.send([first!, large, third!])
    expect(result.delivered).toBe(1)
    expect(result.permanent).toBe(true)
    expect(result.error?.message).toBe(
      "NATS refused the message: its 5000 bytes and headers are over the server's max_payload (4096)",
    )
    // The forwarder sends the rest again after the refused one: stored once each, the large one never.
    expect(await sink.send([third!])).toMatchObject({ delivered: 1 })
    expectMessages(await storedMessages(jsm, name), [first!, third!])
  })

  it("refuses for good an event over the stream's max_msg_size", async () => {
    const nc = await connect({ servers: SHARED })
    const jsm = await jetstreamManager(nc)
    const name = uniqueName('tylt_test_small').replace(/-/g, '_')
    const subject = `tylt.test.${name}`
    await jsm.streams.add({ name, subjects: [subject], max_msg_size: 2_000 })
    onTestFinished(async () => {
      await jsm.streams.delete(name).catch(() => undefined)
      await nc.close()
    })
    const [first, second] = makeEvents(2)
    const large = { ...second!, body: Buffer.alloc(3_000, 0x61) }
    const result = await sinkFor(SHARED, subject).send([first!, large])
    expect(result).toMatchObject({ delivered: 1, permanent: true })
    expect(result.error?.message).toBe(
      "JetStream refused the message: its 3000 bytes are over the stream's max_msg_size",
    )
    expectMessages(await storedMessages(jsm, name), [first!])
  })

  it('stops waiting for acknowledgements when told to', async () => {
    const { address, server } = await privateNats('')
    const { subject } = await streamOn(address)
    const sink = sinkFor(address, subject, 20_000)
    expect(await sink.send(makeEvents(1))).toMatchObject({ delivered: 1 })
    await freeze(server.pid!)
    const stop = new AbortController()
    setTimeout(() => stop.abort(), 200)
    const started = Date.now()
    const result = await sink.send(makeEvents(3), stop.signal)
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(result.delivered).toBe(0)
    expect(result.error?.message).toMatch(/sending was stopped/)
    expect(result.permanent).toBeUndefined()
  })

  it('warns at start when no stream captures the subject, or NATS is unreachable; not when ready', async () => {
    const subject = `tylt.test.${uniqueName('nostream')}`
    expect(await sinkFor(SHARED, subject).check()).toBe(
      `NATS downstream nats://${SHARED}: no JetStream stream captures subject "${subject}"`,
    )
    const port = await freePort()
    expect(await sinkFor(`127.0.0.1:${port}`, 'tylt.none', 1_000).check()).toMatch(
      new RegExp(`^NATS downstream nats://127\\.0\\.0\\.1:${port}: cannot connect to NATS`),
    )
    const ready = await streamOn(SHARED)
    expect(await sinkFor(SHARED, ready.subject).check()).toBeUndefined()
  })
})
