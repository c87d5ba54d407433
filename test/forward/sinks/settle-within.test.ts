import { describe, expect, it } from 'vitest'
import { confirmedPrefix, type Outcome, settleWithin } from '../../../src/forward/sinks/settle-within.js'

const never = new Promise<Outcome>(() => undefined)

describe('settleWithin', () => {
  it('returns every outcome once all have settled, without waiting for the deadline', async () => {
    const failure = new Error('nacked')
    const started = Date.now()
    const result = await settleWithin([Promise.resolve(null), Promise.resolve(failure)], 5_000, 'late')
    expect(Date.now() - started).toBeLessThan(1_000)
    expect(result).toEqual({ outcomes: [null, failure], timedOut: false })
  })

  it('gives unanswered messages the timeout error at the deadline', async () => {
    const result = await settleWithin([Promise.resolve(null), never, Promise.resolve(null)], 50, 'late')
    expect(result.timedOut).toBe(true)
    expect(result.outcomes[0]).toBeNull()
    expect(result.outcomes[1]).toMatchObject({ message: 'late', code: 'TIMEOUT' })
    expect(result.outcomes[2]).toBeNull()
  })
})

describe('confirmedPrefix', () => {
  it('counts up to the first failure and reports that failure', () => {
    const first = new Error('first')
    expect(confirmedPrefix([null, null, first, null, new Error('second')])).toEqual({
      delivered: 2,
      error: first,
    })
    expect(confirmedPrefix([null, null])).toEqual({ delivered: 2 })
    expect(confirmedPrefix([])).toEqual({ delivered: 0 })
  })
})
