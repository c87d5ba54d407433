import { Writable } from 'node:stream'
import pino from 'pino'
import { describe, expect, it, onTestFinished } from 'vitest'
import { planDownstreams } from '../../src/forward/downstream-plan.js'
import { parseForwardUrl } from '../../src/forward/parse-forward-url.js'
import { reportBacklog } from '../../src/forward/report-backlog.js'
import { GroupCommitStore } from '../../src/store/group-commit-store.js'
import { relayEvent, tempDir } from '../helpers/index.js'

/** A logger whose lines are kept as parsed JSON. */
function capturing() {
  const lines: { msg: string; pending?: number; stored?: number }[] = []
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()))
      done()
    },
  })
  return { lines, logger: pino({ level: 'info' }, sink) }
}

const plan = (forward: string | undefined) =>
  planDownstreams({
    forward: forward === undefined ? undefined : parseForwardUrl(forward),
    forwardSigningSecret: undefined,
    services: [{ name: 'cpg' }, { name: 'demo' }],
    serviceForwards: [],
  })

describe('reportBacklog', () => {
  it('names at start how many events are pending (going to the downstream their service has now) and stored', async () => {
    const store = new GroupCommitStore(tempDir(), { hasDownstream: (service) => service === 'cpg' })
    onTestFinished(() => store.close())
    for (const [i, service] of ['cpg', 'cpg', 'demo'].entries())
      await store.append(
        relayEvent({ id: `evt_${i}`, service, acceptedAt: i, signature: 'f', body: Buffer.from('{}') }),
      )
    const { lines, logger } = capturing()
    await reportBacklog(store, plan('redis://127.0.0.1:6390?stream=new'), logger)
    await new Promise((resolve) => setImmediate(resolve))
    expect(lines.map(({ msg, pending, stored }) => ({ msg, pending, stored }))).toEqual([
      {
        msg: '2 event(s) accepted before this start are pending; each goes to the downstream its service has now',
        pending: 2,
        stored: undefined,
      },
      {
        msg: '1 event(s) accepted while their service had no downstream stay stored; "tylt-relay events replay --service NAME" sends them',
        pending: undefined,
        stored: 1,
      },
    ])
  })

  it('says nothing without a downstream: the store is where events go', async () => {
    const store = new GroupCommitStore(tempDir(), { hasDownstream: () => false })
    onTestFinished(() => store.close())
    await store.append(
      relayEvent({ id: 'evt_1', service: 'demo', acceptedAt: 1, signature: 'f', body: Buffer.from('{}') }),
    )
    const { lines, logger } = capturing()
    await reportBacklog(store, plan(undefined), logger)
    await new Promise((resolve) => setImmediate(resolve))
    expect(lines).toEqual([])
  })
})
