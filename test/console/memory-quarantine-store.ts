import { randomBytes } from 'node:crypto'
import type {
  QuarantinedRequest,
  QuarantineStats,
  QuarantineStore,
  QuarantineSummary,
  RefusedRequest,
} from '../../src/core/quarantine-store.js'

/** The quarantine port in memory, for the console's tests (the SQLite adapter lives with the quarantine). */
export class MemoryQuarantineStore implements QuarantineStore {
  readonly requests: QuarantinedRequest[] = []

  keep(request: Partial<RefusedRequest> & Pick<RefusedRequest, 'reason'>): QuarantinedRequest {
    const kept: QuarantinedRequest = {
      id: `q_${randomBytes(8).toString('hex')}`,
      receivedAt: Date.now(),
      path: '/webhooks/cpg',
      service: 'cpg',
      sourceAddress: '203.0.113.7',
      signature: null,
      contentType: 'application/json',
      userAgent: null,
      body: Buffer.from('{}'),
      fromVerifiedSource: false,
      ...request,
    }
    this.requests.push(kept)
    return kept
  }

  async add(requests: readonly QuarantinedRequest[]): Promise<void> {
    this.requests.push(...requests)
  }

  async list(limit: number): Promise<QuarantineSummary[]> {
    return [...this.requests]
      .reverse()
      .slice(0, limit)
      .map(({ body, ...rest }) => ({ ...rest, bytes: body.length }))
  }

  async get(id: string): Promise<QuarantinedRequest | undefined> {
    return this.requests.find((r) => r.id === id)
  }

  async remove(ids: readonly string[] | 'all'): Promise<number> {
    const before = this.requests.length
    const keep = this.requests.filter((r) => ids !== 'all' && !ids.includes(r.id))
    this.requests.splice(0, this.requests.length, ...keep)
    return before - keep.length
  }

  async stats(): Promise<QuarantineStats> {
    return { count: this.requests.length, bytes: this.requests.reduce((n, r) => n + r.body.length, 0) }
  }

  async trim(): Promise<number> {
    return 0
  }

  async close(): Promise<void> {}
}
