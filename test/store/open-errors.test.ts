import { execFile } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { STORE_FILE } from '../../src/constants.js'
import { GroupCommitStore } from '../../src/store/group-commit-store.js'
import { SqliteStore } from '../../src/store/sqlite-store.js'
import { relayEvent, tempDir } from '../helpers/index.js'
import { CLI, runCli } from '../helpers/relay-process.js'

/** A store holding `count` events of about 2 KB each, closed. */
async function filledStore(dir: string, count: number): Promise<void> {
  const store = new GroupCommitStore(dir)
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      store.append(
        relayEvent({
          id: `evt_${i}`,
          service: 'cpg',
          acceptedAt: 1_700_000_000_000 + i,
          signature: 'a'.repeat(64),
          body: Buffer.from(`{"i":${i},"pad":"${'x'.repeat(2_000)}"}`),
        }),
      ),
    ),
  )
  await store.close()
}

const env = (dataDir: string) => ({ DATA_DIR: dataDir })

const NOBODY = 65534

/** Why `uid` cannot run the built CLI from where this checkout is; undefined when it can. */
function cannotRunAs(uid: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, '--version'],
      { cwd: '/', uid, gid: uid, env: { PATH: process.env.PATH ?? '' }, timeout: 20_000 },
      (err, _stdout, stderr) => {
        const line = stderr.split('\n').find((l) => /Error|denied|Cannot/.test(l)) ?? stderr.split('\n')[0]
        resolve(err === null ? undefined : (line?.trim() ?? err.message))
      },
    )
  })
}

describe('opening the store: missing, corrupted, not writable', () => {
  it('tells a missing store apart, and creates nothing', async () => {
    const dataDir = join(tempDir(), 'never-used')
    const { code, stdout, stderr } = await runCli(['events', 'list'], env(dataDir))
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr).toBe(
      `tylt-relay: no event store at ${join(dataDir, STORE_FILE)}: is DATA_DIR the folder the relay runs with?\n`,
    )
    expect(existsSync(dataDir)).toBe(false)
    expect(() => new SqliteStore(dataDir, { mustExist: true })).toThrow(
      expect.objectContaining({ code: 'TYLT_STORE_MISSING' }),
    )
  })

  it('says a file that is not a database cannot be read, with its path and what to do, and leaves it as is', async () => {
    const dataDir = tempDir()
    const file = join(dataDir, STORE_FILE)
    const garbage = Buffer.from('this was a database until someone wrote over it\n'.repeat(200))
    writeFileSync(file, garbage)
    const { code, stderr } = await runCli(['events', 'list'], env(dataDir))
    expect(code).toBe(1)
    expect(stderr).toBe(
      `tylt-relay: the event store ${file} cannot be read (file is not a database (SQLITE_NOTADB)). ` +
        'Restore it from a backup (docs/operations.md, "Backup and restore"), ' +
        'or move it away with its -wal and -shm files to start with an empty store\n',
    )
    expect(stderr).not.toContain('no event store')
    expect(readFileSync(file).equals(garbage)).toBe(true)
    // The relay refuses to start on it the same way, instead of starting over on an empty store.
    expect(() => new GroupCommitStore(dataDir)).toThrow(
      expect.objectContaining({ code: 'TYLT_STORE_UNREADABLE' }),
    )
    expect(readFileSync(file).equals(garbage)).toBe(true)
  })

  it('says a store whose pages are damaged cannot be read, when a read meets them', async () => {
    const dataDir = tempDir()
    await filledStore(dataDir, 300)
    const file = join(dataDir, STORE_FILE)
    const bytes = readFileSync(file)
    // Past the first pages (the schema), into the table's pages.
    bytes.fill(0xa5, 16 * 4096, 64 * 4096)
    writeFileSync(file, bytes)
    const { code, stderr } = await runCli(['events', 'list', '--limit', '1000'], env(dataDir))
    expect(code).toBe(1)
    expect(stderr).toMatch(
      new RegExp(
        `^tylt-relay: the event store ${file} cannot be read \\(.*\\(SQLITE_CORRUPT\\)\\)\\. Restore it from a backup`,
      ),
    )
  })

  it('names DATA_DIR when it is a file, or a file stands where a folder of its path should be', async () => {
    const file = join(tempDir(), 'data')
    writeFileSync(file, 'not a folder')
    const relayEnv = { ...env(file), TYLT_SECRET_CPG: 'a-secret-of-enough-length', PORT: '0', OPS_PORT: '0' }
    for (const args of [['serve'], ['events', 'list']]) {
      expect(await runCli(args, relayEnv)).toEqual({
        code: 1,
        stdout: '',
        stderr: `tylt-relay: DATA_DIR ${file} is not a folder (it is a file): set DATA_DIR to a folder for the store; it is created when missing\n`,
      })
    }
    const below = join(file, 'store')
    expect(await runCli(['serve'], { ...relayEnv, DATA_DIR: below })).toEqual({
      code: 1,
      stdout: '',
      stderr: `tylt-relay: DATA_DIR ${below} is not a folder (a part of its path is a file): set DATA_DIR to a folder for the store; it is created when missing\n`,
    })
    expect(readFileSync(file, 'utf8')).toBe('not a folder')
  })

  it.runIf(process.getuid?.() === 0)(
    'names the folder, the user and the fix when DATA_DIR is not writable by the relay (a bind mount)',
    async (context) => {
      // The relay runs as nobody, from this checkout: one in a folder nobody may not enter (root's home,
      // mode 0700) cannot be run so, and the case says why it is skipped rather than failing.
      const unreadable = await cannotRunAs(NOBODY)
      if (unreadable !== undefined) {
        const reason = `skipped: user nobody cannot run ${CLI} from this checkout (${unreadable})`
        console.info(reason)
        context.skip(reason)
      }
      const root = tempDir()
      chmodSync(root, 0o755)
      const dataDir = join(root, 'data')
      // Owned by root, as a bind mount from the host often is; the relay runs as nobody.
      mkdirSync(dataDir, { mode: 0o755 })
      const nobody = NOBODY
      const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [CLI, 'serve'],
          {
            cwd: root,
            uid: nobody,
            gid: nobody,
            env: {
              PATH: process.env.PATH ?? '',
              DATA_DIR: dataDir,
              TYLT_SECRET_CPG: 'a-secret-of-enough-length',
              HOST: '127.0.0.1',
              PORT: '0',
              OPS_HOST: '127.0.0.1',
              OPS_PORT: '0',
            },
            timeout: 20_000,
          },
          (err, _stdout, stderr) => resolve({ code: err === null ? 0 : Number(err.code), stderr }),
        )
      })
      expect(result.code).toBe(1)
      expect(result.stderr).toBe(
        `tylt-relay: DATA_DIR ${dataDir} is not writable by this process (uid ${nobody}, gid ${nobody}): ` +
          `permission denied (EACCES). Give this user write access to it (for a bind mount, on the host: ` +
          `chown -R ${nobody}:${nobody} FOLDER), or run the relay as the user that owns it (docker run --user UID:GID)\n`,
      )
      expect(readdirSync(dataDir)).toEqual([])
    },
  )
})
