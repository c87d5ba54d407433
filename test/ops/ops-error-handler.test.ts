import pino from 'pino'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createMetrics } from '../../src/ops/metrics.js'
import { buildOpsApp } from '../../src/ops/ops-app.js'
import { GroupCommitStore } from '../../src/store/group-commit-store.js'
import { tempDir } from '../helpers/index.js'

describe('the ops listener answering an error', () => {
  it('says nothing of a server error but that it happened; a client error keeps its message', async () => {
    const store = new GroupCommitStore(tempDir())
    const metrics = createMetrics({ stats: () => store.stats(), downstreams: () => [] })
    const lines: string[] = []
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) })
    const ops = buildOpsApp({ logger, store, metrics })
    onTestFinished(async () => {
      await ops.close()
      await store.close()
    })
    ops.get('/boom', async () => {
      throw new RangeError('Maximum call stack size exceeded at /srv/relay/secret.js')
    })
    ops.get('/bad', async () => {
      throw Object.assign(new Error('bad filter'), { statusCode: 400 })
    })
    const boom = await ops.inject({ method: 'GET', url: '/boom' })
    expect([boom.statusCode, boom.headers['content-type'], boom.body]).toEqual([
      500,
      'text/plain; charset=utf-8',
      'internal error',
    ])
    expect(lines.join('')).toContain('Maximum call stack size exceeded')
    const bad = await ops.inject({ method: 'GET', url: '/bad' })
    expect([bad.statusCode, bad.body]).toEqual([400, 'bad filter'])
  })
})
