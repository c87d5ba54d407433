import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import { readEnv } from '../../src/config/read-env.js'
import { DEMO_SECRET } from '../../src/constants.js'
import { tempDir } from '../helpers/index.js'

const FROM_FILE = 'cpg-secret-in-dotenv-01'
const REAL = 'cpg-secret-in-environment-02'

/** A working directory whose `.env` says `content`. */
function folderWith(content: string) {
  const dir = tempDir()
  writeFileSync(join(dir, '.env'), content)
  return dir
}

const secretsOf = (env: Record<string, string | undefined>, name: string) =>
  loadConfig(env)
    .services.find((s) => s.name === name)
    ?.secrets.map((k) => k.export().toString())

describe('readEnv: the real environment wins, per service', () => {
  it('TYLT_SECRET_X_FILE in the environment replaces TYLT_SECRET_X in .env', () => {
    const secretFile = join(tempDir(), 'cpg')
    writeFileSync(secretFile, `${REAL}\n`)
    const dir = folderWith(`TYLT_SECRET_CPG=${FROM_FILE}\nPORT=4000\n`)
    const env = readEnv(dir, { TYLT_SECRET_CPG_FILE: secretFile })
    expect(env.TYLT_SECRET_CPG).toBeUndefined()
    expect(env.PORT).toBe('4000')
    expect(secretsOf(env, 'cpg')).toEqual([REAL])
  })

  it('TYLT_SECRET_X in the environment replaces TYLT_SECRET_X_FILE in .env', () => {
    const dir = folderWith('TYLT_SECRET_CPG_FILE=/run/secrets/not-here\n')
    const env = readEnv(dir, { TYLT_SECRET_CPG: REAL })
    expect(env.TYLT_SECRET_CPG_FILE).toBeUndefined()
    expect(secretsOf(env, 'cpg')).toEqual([REAL])
  })

  it('keeps the services only .env configures, and any other variable the environment does not set', () => {
    const dir = folderWith(`TYLT_SECRET_CPG=${FROM_FILE}\nTYLT_SECRET_DEMO=${DEMO_SECRET}\nLOG_LEVEL=debug\n`)
    const env = readEnv(dir, { TYLT_SECRET_PRIME_UPI: REAL, LOG_LEVEL: 'warn' })
    expect([env.TYLT_SECRET_CPG, env.TYLT_SECRET_PRIME_UPI, env.LOG_LEVEL]).toEqual([FROM_FILE, REAL, 'warn'])
  })

  it('both forms in the real environment are still a mistake', () => {
    const dir = folderWith('')
    const env = readEnv(dir, { TYLT_SECRET_CPG: REAL, TYLT_SECRET_CPG_FILE: '/run/secrets/cpg' })
    expect(() => loadConfig(env)).toThrow(
      'TYLT_SECRET_CPG_FILE: service "cpg" is already configured by TYLT_SECRET_CPG; set only one',
    )
  })

  it('without .env, the environment as it is', () => {
    expect(readEnv(tempDir(), { TYLT_SECRET_CPG: REAL })).toEqual({ TYLT_SECRET_CPG: REAL })
  })
})
