import { existsSync } from 'node:fs'
import { join } from 'node:path'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import { QUARANTINE_FILE } from '../../src/constants.js'
import { createQuarantine } from '../../src/quarantine/create-quarantine.js'
import { SECRETS, tempDir } from '../helpers/index.js'
import { capturedLogger } from './helpers.js'

const config = (env: Record<string, string> = {}) =>
  loadConfig({ TYLT_SECRET_CPG: SECRETS.cpg, DATA_DIR: tempDir(), ...env })

describe('QUARANTINE_MAX_BYTES and QUARANTINE_MAX_AGE', () => {
  it('default to 64 MiB and 7 days', () => {
    expect(config()).toMatchObject({
      quarantineMaxBytes: 64 * 1024 * 1024,
      quarantineMaxAgeMs: 7 * 86_400_000,
    })
  })

  it('are validated with the rest of the configuration', () => {
    expect(() => config({ QUARANTINE_MAX_BYTES: '64MiB', QUARANTINE_MAX_AGE: '7' })).toThrow(
      /QUARANTINE_MAX_BYTES must be a whole number[\s\S]*QUARANTINE_MAX_AGE must be a duration/,
    )
  })

  it('0 turns the quarantine off: nothing is opened, nothing is created', () => {
    const off = config({ QUARANTINE_MAX_BYTES: '0' })
    expect(createQuarantine(off, pino({ level: 'silent' }))).toBeUndefined()
    expect(existsSync(join(off.dataDir, QUARANTINE_FILE))).toBe(false)
  })

  it('a quarantine that cannot be opened leaves the relay running without one, and says so', () => {
    const { logger, lines } = capturedLogger()
    // DATA_DIR is a file: the quarantine's folder cannot be made.
    const blocked = config({ DATA_DIR: join(import.meta.dirname, 'helpers.ts') })
    expect(createQuarantine(blocked, logger)).toBeUndefined()
    expect(lines.map((l) => l.msg)).toEqual([
      'quarantine cannot be opened; refused requests will not be kept',
    ])
  })

  it('opens its own file in DATA_DIR', async () => {
    const on = config()
    const quarantine = createQuarantine(on, pino({ level: 'silent' }))
    await quarantine?.close()
    expect(existsSync(join(on.dataDir, QUARANTINE_FILE))).toBe(true)
  })
})
