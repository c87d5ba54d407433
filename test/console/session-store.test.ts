import { describe, expect, test } from 'vitest'
import { CONSOLE } from '../../src/console/console-settings.js'
import { SessionStore } from '../../src/console/session-store.js'

describe('SessionStore', () => {
  test('a session has random, distinct id and CSRF token, and is found by its id only', () => {
    const sessions = new SessionStore()
    const a = sessions.create()
    const b = sessions.create()
    expect(new Set([a.id, a.csrf, b.id, b.csrf]).size).toBe(4)
    expect(a.id).toMatch(/^[\w-]{43}$/)
    expect(sessions.get(a.id)).toBe(a)
    expect(sessions.get(a.csrf)).toBeUndefined()
    expect(sessions.get(undefined)).toBeUndefined()
  })

  test('a session ends after the idle time without a request, and a request restarts that clock', () => {
    let now = 1_000_000
    const sessions = new SessionStore(() => now)
    const session = sessions.create()
    now += CONSOLE.sessionIdleMs - 1
    expect(sessions.get(session.id)).toBe(session)
    now += CONSOLE.sessionIdleMs - 1
    expect(sessions.get(session.id)).toBe(session)
    now += CONSOLE.sessionIdleMs + 1
    expect(sessions.get(session.id)).toBeUndefined()
    expect(sessions.size).toBe(0)
  })

  test('a session in use still ends at its maximum age', () => {
    let now = 0
    const sessions = new SessionStore(() => now)
    const session = sessions.create()
    while (now < CONSOLE.sessionMaxMs - CONSOLE.sessionIdleMs) {
      now += CONSOLE.sessionIdleMs / 2
      expect(sessions.get(session.id)).toBe(session)
    }
    now = CONSOLE.sessionMaxMs + 1
    expect(sessions.get(session.id)).toBeUndefined()
  })

  test('past the limit, a new login pushes out the oldest session', () => {
    const sessions = new SessionStore()
    const first = sessions.create()
    for (let i = 1; i < CONSOLE.maxSessions; i++) sessions.create()
    expect(sessions.get(first.id)).toBe(first)
    sessions.create()
    expect(sessions.size).toBe(CONSOLE.maxSessions)
    expect(sessions.get(first.id)).toBeUndefined()
  })
})
