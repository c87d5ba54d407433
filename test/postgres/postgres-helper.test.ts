import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { serverPath } from './postgres-helper.js'

describe('the private PostgreSQL server of a test', () => {
  it('finds initdb and pg_ctl when PATH has neither, as on Debian where they live off PATH', async () => {
    const bare = '/usr/bin:/bin'
    expect(['/usr/bin/initdb', '/bin/initdb'].some(existsSync)).toBe(false)
    const path = await serverPath(bare)
    const [bin] = path.split(':')
    expect(path).toBe(`${bin}:${bare}`)
    expect(existsSync(`${bin}/initdb`)).toBe(true)
    expect(existsSync(`${bin}/pg_ctl`)).toBe(true)
  })

  it('leaves PATH as it is when initdb is on it', async () => {
    const withInitdb = await serverPath()
    expect(await serverPath(withInitdb)).toBe(withInitdb)
  })
})
