import { parseDuration } from './duration.js'

/**
 * One field of the configuration schema: the environment variable it reads and how. `parse` returns the
 * value or throws a message naming the problem (never the value when it may be a secret).
 */
export interface Field<T> {
  readonly env: string
  readonly parse: (raw: string | undefined) => T
}

const field = <T>(env: string, parse: (raw: string | undefined) => T): Field<T> => ({ env, parse })
const present = (raw: string | undefined): raw is string => raw !== undefined && raw.trim() !== ''

export function text(env: string, fallback: string): Field<string> {
  return field(env, (raw) => (present(raw) ? raw.trim() : fallback))
}

export function integer(env: string, fallback: number, min: number, max: number): Field<number> {
  return field(env, (raw) => {
    if (!present(raw)) return fallback
    const value = Number(raw.trim())
    if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
      throw new Error(`${env} must be a whole number from ${min} to ${max}, got "${raw}"`)
    }
    return value
  })
}

export function duration(env: string, fallback: string): Field<number> {
  return field(env, (raw) => {
    const value = parseDuration(present(raw) ? raw : fallback)
    if (value === undefined || value <= 0) {
      throw new Error(`${env} must be a duration with a unit such as 30s, 15m, 72h or 1h30m, got "${raw}"`)
    }
    return value
  })
}

export function boolean(env: string, fallback: boolean): Field<boolean> {
  return field(env, (raw) => {
    if (!present(raw)) return fallback
    const value = raw.trim().toLowerCase()
    if (value === 'true' || value === '1') return true
    if (value === 'false' || value === '0') return false
    throw new Error(`${env} must be true or false, got "${raw}"`)
  })
}

export function oneOf<const T extends string>(env: string, values: readonly T[], fallback: T): Field<T> {
  return field(env, (raw) => {
    if (!present(raw)) return fallback
    const value = raw.trim().toLowerCase()
    const found = values.find((v) => v === value)
    if (found === undefined) throw new Error(`${env} must be one of ${values.join(', ')}, got "${raw}"`)
    return found
  })
}

/** An optional value turned into something richer; `parse` errors must not quote secret input. */
export function optional<T>(env: string, parse: (raw: string) => T): Field<T | undefined> {
  return field(env, (raw) => (present(raw) ? parse(raw.trim()) : undefined))
}
