import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { GroupCommitStore } from '../../src/store/group-commit-store.js'
import { relayEvent, tempDir } from '../helpers/index.js'
import { runCli } from '../helpers/relay-process.js'

describe('tylt-relay store', () => {
  it('backs up a store and prints what the copy holds', async () => {
    const dataDir = tempDir()
    const store = new GroupCommitStore(dataDir)
    await store.append(
      relayEvent({
        id: 'evt_cli_1',
        service: 'cpg',
        acceptedAt: 1_700_000_000_000,
        signature: 'd'.repeat(64),
        body: Buffer.from('{}'),
      }),
    )
    await store.close()
    const target = join(tempDir(), 'b.sqlite')
    const { code, stdout, stderr } = await runCli(['store', 'backup', target], { DATA_DIR: dataDir })
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(stdout).toMatch(
      new RegExp(
        `^backed up 1 events \\(1 pending, 0 dead\\) from ${dataDir}/tylt-relay\\.sqlite to ${target} `,
      ),
    )
    expect(existsSync(target)).toBe(true)
  })

  it.each([
    [['store'], 'store needs one of: backup, migrate'],
    [['store', 'restore', 'x'], 'store needs one of: backup, migrate'],
    [['store', 'backup'], 'store backup needs one FILE to write'],
    [['store', 'backup', 'a', 'b'], 'store backup needs one FILE to write'],
  ])('refuses %j with a usage error', async (args, message) => {
    const { code, stderr } = await runCli(args, { DATA_DIR: tempDir() })
    expect(code).toBe(2)
    expect(stderr.split('\n')[0]).toBe(`tylt-relay: ${message}`)
  })

  it('never overwrites an existing file', async () => {
    const dataDir = tempDir()
    await new GroupCommitStore(dataDir).close()
    const target = join(tempDir(), 'b.sqlite')
    writeFileSync(target, 'keep me')
    const { code, stderr } = await runCli(['store', 'backup', target], { DATA_DIR: dataDir })
    expect(code).toBe(1)
    expect(stderr).toBe(`tylt-relay: ${target} exists; a backup never overwrites a file: give a new name\n`)
  })
})
