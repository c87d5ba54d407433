import { describe, expect, it } from 'vitest'
import { parseDuration } from '../../src/config/duration.js'

describe('parseDuration', () => {
  it.each([
    ['72h', 259_200_000],
    ['30s', 30_000],
    ['500ms', 500],
    ['1h30m', 5_400_000],
    ['1d', 86_400_000],
    [' 15m ', 900_000],
    ['1.5s', 1_500],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms)
  })

  it.each(['', '72', 'h', '10 s', '-5s', '5x', '1h 30m', 'soon'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined()
  })
})
