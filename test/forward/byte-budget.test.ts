import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { describeFailure } from '../../src/core/describe-failure.js'
import { containerMemoryLimit, forwardByteBudget } from '../../src/forward/byte-budget.js'
import { FORWARD_BATCH_MAX_BYTES } from '../../src/forward/forward-tuning.js'
import { tempDir } from '../helpers/index.js'

const MiB = 1024 * 1024

describe('forwardByteBudget', () => {
  it('reads the cgroup limit: v2 "max" and v1 "unlimited" are no limit, a number is one', () => {
    const dir = tempDir()
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text)
      return join(dir, name)
    }
    expect(containerMemoryLimit([file('v2-max', 'max\n')])).toBeUndefined()
    expect(containerMemoryLimit([file('v1-none', '9223372036854771712\n')])).toBeUndefined()
    expect(containerMemoryLimit([join(dir, 'absent'), file('v2', `${256 * MiB}\n`)])).toBe(256 * MiB)
  })

  it('8 MiB without a limit; 1/32 of a smaller container, split between forwarders, never under 1 MiB', () => {
    expect(forwardByteBudget(1, undefined)).toBe(FORWARD_BATCH_MAX_BYTES)
    expect(forwardByteBudget(1, 4096 * MiB)).toBe(FORWARD_BATCH_MAX_BYTES)
    expect(forwardByteBudget(1, 128 * MiB)).toBe(4 * MiB)
    expect(forwardByteBudget(2, 256 * MiB)).toBe(4 * MiB)
    expect(forwardByteBudget(20, 64 * MiB)).toBe(MiB)
  })
})

describe('describeFailure', () => {
  it('gives an answer, a system or library code, a timeout, or ERROR, and the message', () => {
    expect(describeFailure(new Error('HTTP 503 Service Unavailable'))).toEqual({
      code: 'HTTP_503',
      message: 'HTTP 503 Service Unavailable',
    })
    const refused = new Error('POST to downstream failed: connect ECONNREFUSED 127.0.0.1:9', {
      cause: new TypeError('fetch failed', {
        cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
      }),
    })
    expect(describeFailure(refused).code).toBe('ECONNREFUSED')
    expect(
      describeFailure(Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' })).code,
    ).toBe('SQLITE_BUSY')
    expect(describeFailure(new Error('downstream did not answer within 10000 ms')).code).toBe('TIMEOUT')
    expect(describeFailure('odd')).toEqual({ code: 'ERROR', message: 'odd' })
  })
})
