import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import { downstreamOf, planDownstreams } from '../../src/forward/downstream-plan.js'

const SIGNING = `whsec_${Buffer.alloc(32, 7).toString('base64')}`
const OTHER_SIGNING = `whsec_${Buffer.alloc(32, 9).toString('base64')}`

const plan = (env: Record<string, string>) =>
  planDownstreams(
    loadConfig({
      TYLT_SECRET_CPG: 'cpg-secret-of-sixteen-bytes+',
      TYLT_SECRET_DEMO: 'demo-secret-of-sixteen-bytes+',
      TYLT_SECRET_PRIME_UPI: 'upi-secret-of-sixteen-bytes+',
      ...env,
    }),
  ).map(({ kind, target, services, reads }) => ({ kind, target, services, reads }))

describe('planDownstreams', () => {
  it('no downstream at all: none (events stay in the store)', () => {
    expect(plan({})).toEqual([])
  })

  it('FORWARD_URL alone: one downstream that reads every service', () => {
    expect(plan({ FORWARD_URL: 'redis://u:pw@127.0.0.1:6379?stream=s' })).toEqual([
      { kind: 'redis', target: 'redis://u:***@127.0.0.1:6379?stream=s', services: null, reads: undefined },
    ])
  })

  it('FORWARD_URL_<NAME> takes that service (NAME spelled as in TYLT_SECRET_<NAME>) out of the default', () => {
    expect(
      plan({
        FORWARD_URL: 'http://127.0.0.1:8080/prod',
        FORWARD_URL_PRIME_UPI: 'nats://127.0.0.1:4222?subject=upi',
      }),
    ).toEqual([
      { kind: 'http', target: 'http://127.0.0.1:8080/prod', services: null, reads: ['cpg', 'demo'] },
      {
        kind: 'nats',
        target: 'nats://127.0.0.1:4222?subject=upi',
        services: ['prime-upi'],
        reads: ['prime-upi'],
      },
    ])
  })

  it('services with the same URL and signing secret share one downstream; a signing secret of its own splits one off', () => {
    const url = 'http://127.0.0.1:8080/hook'
    expect(
      plan({
        FORWARD_URL: url,
        FORWARD_SIGNING_SECRET: SIGNING,
        FORWARD_URL_DEMO: url,
        FORWARD_SIGNING_SECRET_CPG: OTHER_SIGNING,
      }),
    ).toEqual([
      { kind: 'http', target: url, services: ['cpg'], reads: ['cpg'] },
      { kind: 'http', target: url, services: null, reads: ['demo', 'prime-upi'] },
    ])
  })

  it('without FORWARD_URL, only the services with a URL of their own are forwarded', () => {
    const downstreams = plan({ FORWARD_URL_CPG: 'http://127.0.0.1:9/cpg' })
    expect(downstreams).toEqual([
      { kind: 'http', target: 'http://127.0.0.1:9/cpg', services: ['cpg'], reads: ['cpg'] },
    ])
  })
})

describe('downstreamOf', () => {
  it('names the downstream an event of a service goes to, or null', () => {
    const config = loadConfig({
      TYLT_SECRET_CPG: 'cpg-secret-of-sixteen-bytes+',
      TYLT_SECRET_DEMO: 'demo-secret-of-sixteen-bytes+',
      FORWARD_URL: 'redis://127.0.0.1:6379?stream=prod',
      FORWARD_URL_DEMO: 'redis://127.0.0.1:6379?stream=staging',
    })
    const downstreams = planDownstreams(config)
    expect(downstreamOf(downstreams, 'demo')).toBe('redis://127.0.0.1:6379?stream=staging')
    expect(downstreamOf(downstreams, 'cpg')).toBe('redis://127.0.0.1:6379?stream=prod')
    // A service no longer configured, beside a downstream per service: nothing reads its leftovers.
    expect(downstreamOf(downstreams, 'gone')).toBeNull()
    const single = planDownstreams(
      loadConfig({ TYLT_SECRET_CPG: 'cpg-secret-of-sixteen-bytes+', FORWARD_URL: 'http://127.0.0.1:9/' }),
    )
    expect(downstreamOf(single, 'gone')).toBe('http://127.0.0.1:9/')
    expect(
      downstreamOf(planDownstreams(loadConfig({ TYLT_SECRET_CPG: 'cpg-secret-of-sixteen-bytes+' })), 'cpg'),
    ).toBeNull()
  })
})

describe('FORWARD_URL_<NAME> configuration', () => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig({ TYLT_SECRET_CPG: 'cpg-secret-of-sixteen-bytes+', ...env })
    } catch (err) {
      return (err as Error).message
    }
    throw new Error('expected a configuration error')
  }

  it('refuses a NAME that is not a configured service, naming the variable and not the value', () => {
    const message = problems({ FORWARD_URL_DEMO: 'redis://u:topsecret@127.0.0.1:6379?stream=x' })
    expect(message).toContain(
      'FORWARD_URL_DEMO: no service "demo" is configured (set TYLT_SECRET_DEMO or TYLT_SECRET_DEMO_FILE, or remove FORWARD_URL_DEMO)',
    )
    expect(message).not.toContain('topsecret')
  })

  it('names the variable of a bad per-service URL or signing secret, never its value', () => {
    expect(problems({ FORWARD_URL_CPG: 'redis://u:topsecret@127.0.0.1:6379' })).toMatch(
      /FORWARD_URL_CPG redis:\/\/ needs \?stream=/,
    )
    const secret = problems({
      FORWARD_URL_CPG: 'http://127.0.0.1:9/',
      FORWARD_SIGNING_SECRET_CPG: 'whsec_!!topsecret',
    })
    expect(secret).toContain('FORWARD_SIGNING_SECRET_CPG is not valid base64')
    expect(secret).not.toContain('topsecret')
    expect(
      problems({ FORWARD_URL_CPG: 'redis://127.0.0.1:6379?stream=x', FORWARD_SIGNING_SECRET_CPG: SIGNING }),
    ).toContain('only applies to an http:// or https:// downstream')
  })
})
