import { describe, expect, it, onTestFinished } from 'vitest'
import { EventsTail, tailText } from '../../src/cli/events-tail.js'
import type { PlannedDownstream } from '../../src/forward/downstream-plan.js'
import { GroupCommitStore } from '../../src/store/group-commit-store.js'
import { relayEvent, tempDir } from '../helpers/index.js'

/** Every service goes to one downstream: what the accepted and replayed lines name. */
const PLAN = [
  { target: 'http://127.0.0.1:1/tylt', services: null, reads: undefined },
] as unknown as PlannedDownstream[]

async function storeWithTail(filter = {}) {
  const store = new GroupCommitStore(tempDir())
  onTestFinished(() => store.close())
  await store.append(relayEvent({ id: 'evt_before', merchantOrderId: 'OLD' }))
  const tail = new EventsTail(store, PLAN, { json: true, ...filter })
  await tail.start(undefined)
  return { store, tail }
}

const brief = (lines: Awaited<ReturnType<EventsTail['poll']>>) =>
  lines.map((l) => [l.outcome, l.id, l.downstream, l.error])

describe('events tail', () => {
  it('prints each acceptance and each attempt as it ends, and nothing from before it started', async () => {
    const { store, tail } = await storeWithTail()
    expect(await tail.poll()).toEqual([])
    const event = relayEvent({
      id: 'evt_1',
      merchantOrderId: 'ORD-1',
      product: 'upi',
      status: '4',
      final: 'true',
    })
    await store.append(event)
    const [accepted] = await tail.poll()
    expect(accepted).toMatchObject({
      outcome: 'accepted',
      merchantOrderId: 'ORD-1',
      product: 'upi',
      status: '4',
    })
    expect(tailText(accepted!)).toMatch(/^\S+Z {2}accepted +cpg {2}upi {2}ORD-1 {2}status 4 {2}final true/)
    const seq = (await store.get('evt_1'))!.seq
    await store.recordFailure(seq, Date.now(), 'redis://q', 'connection refused')
    await store.recordFailure(seq, Date.now() + 1, 'redis://q', 'timed out')
    expect(brief(await tail.poll())).toEqual([
      ['failed', 'evt_1', 'redis://q', 'connection refused'],
      ['failed', 'evt_1', 'redis://q', 'timed out'],
    ])
    await store.markRefused(seq, Date.now() + 2, 'redis://q', 'WRONGTYPE')
    expect(brief(await tail.poll())).toEqual([['refused', 'evt_1', 'redis://q', 'WRONGTYPE']])
    await store.replay(['evt_1'], Date.now())
    expect(brief(await tail.poll())).toEqual([['replayed', 'evt_1', 'http://127.0.0.1:1/tylt', 'WRONGTYPE']])
    await store.markDelivered([seq], Date.now() + 3, 'redis://q')
    expect(brief(await tail.poll())).toEqual([['delivered', 'evt_1', 'redis://q', null]])
    expect(await tail.poll()).toEqual([])
  })

  it('never prints a successful attempt as a failure: a delivery before a replay reads as a delivery', async () => {
    const { store, tail } = await storeWithTail()
    await store.append(relayEvent({ id: 'evt_1', merchantOrderId: 'ORD-1' }))
    const seq = (await store.get('evt_1'))!.seq
    const t = Date.now()
    await store.recordFailure(seq, t, 'http://d', 'HTTP_500: busy', {
      durationMs: 5,
      status: 500,
      answer: 'busy',
    })
    await store.markDelivered([seq], t + 1, 'http://d', [{ durationMs: 4, status: 200, answer: 'ok' }])
    expect(brief(await tail.poll())).toEqual([
      ['accepted', 'evt_1', 'http://127.0.0.1:1/tylt', null],
      ['delivered', 'evt_1', 'http://d', null],
    ])
    await store.replay(['evt_1'], t + 2)
    expect(brief(await tail.poll())).toEqual([
      ['replayed', 'evt_1', 'http://127.0.0.1:1/tylt', 'HTTP_500: busy'],
    ])
    await store.recordFailure(seq, t + 3, 'http://d', 'HTTP_503: later')
    // Only what happened since: the new failure, not the old delivery.
    expect(brief(await tail.poll())).toEqual([['failed', 'evt_1', 'http://d', 'HTTP_503: later']])
    // Read from the start while it is pending again: its whole history, each attempt as it ended.
    const history = new EventsTail(store, PLAN, { json: true })
    await history.start(0)
    const pending = (await history.poll()).filter((l) => l.id === 'evt_1')
    expect(brief(pending)).toEqual([
      ['accepted', 'evt_1', 'http://127.0.0.1:1/tylt', null],
      ['failed', 'evt_1', 'http://d', 'HTTP_500: busy'],
      ['delivered', 'evt_1', 'http://d', null],
      ['failed', 'evt_1', 'http://d', 'HTTP_503: later'],
    ])
    expect(tailText(pending[2]!)).toMatch(/^\S+Z {2}delivered {2}cpg {2}.* {2}http:\/\/d$/)
    await store.markRefused(seq, t + 4, 'http://d', 'HTTP_400: no')
    expect(brief(await tail.poll())).toEqual([['refused', 'evt_1', 'http://d', 'HTTP_400: no']])

    // Read from the start, the whole history: each attempt with its own outcome and error.
    const replay = new EventsTail(store, PLAN, { json: true })
    await replay.start(0)
    const lines = (await replay.poll()).filter((l) => l.id === 'evt_1')
    expect(brief(lines)).toEqual([
      ['accepted', 'evt_1', 'http://127.0.0.1:1/tylt', null],
      ['refused', 'evt_1', 'http://d', 'HTTP_400: no'],
    ])
    expect(lines.map((l) => tailText(l)).join('\n')).not.toMatch(/failed/)
  })

  it('applies the filters of events list', async () => {
    const { store, tail } = await storeWithTail({ service: 'shop' })
    await store.append(relayEvent({ id: 'evt_cpg' }))
    await store.append(relayEvent({ id: 'evt_shop', service: 'shop' }))
    expect(brief(await tail.poll())).toEqual([['accepted', 'evt_shop', 'http://127.0.0.1:1/tylt', null]])
  })
})
