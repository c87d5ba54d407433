import { execFile } from 'node:child_process'
import { chownSync, existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { onTestFinished } from 'vitest'
import { StoreUrl } from '../../src/config/store-url.js'
import { tempDir } from '../helpers/index.js'
import { freePort } from '../helpers/relay-process.js'

const run = promisify(execFile)

/** The shared PostgreSQL of the test machine (trust authentication); each test works in a schema of its own. */
export const SHARED_DATABASE = 'postgres://postgres@127.0.0.1:5432/test'

/** The URL of `database` with `schema` as the search path, as an operator would write it. */
export const schemaUrl = (database: string, schema: string): string =>
  `${database}?options=${encodeURIComponent(`-c search_path=${schema}`)}`

export async function sql(url: string, text: string, values: unknown[] = []) {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query(text, values)).rows
  } finally {
    await client.end()
  }
}

/** A fresh empty schema in the shared database, dropped with everything in it when the test ends. */
export async function testSchema(
  database = SHARED_DATABASE,
): Promise<{ url: string; storeUrl: StoreUrl; schema: string }> {
  const schema = `tylt_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`
  await sql(database, `CREATE SCHEMA ${schema}`)
  onTestFinished(async () => {
    await sql(database, `DROP SCHEMA ${schema} CASCADE`)
  })
  const url = schemaUrl(database, schema)
  return { url, storeUrl: new StoreUrl(url), schema }
}

/** initdb refuses to run as root: the server's files and processes then belong to the `postgres` user. */
export function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'))
  if (line === undefined) throw new Error('running as root, and there is no postgres user to run a server as')
  const [, , uid, gid] = line.split(':')
  return { uid: Number(uid), gid: Number(gid) }
}

export interface PrivateServer {
  /** The `postgres` database of this server. */
  readonly url: string
  readonly port: number
  /** A clean shutdown: everything committed is on disk first. */
  stop(): Promise<void>
  /** A crash: every server process is killed at once, whatever the WAL buffers still held is lost. */
  crash(): Promise<void>
  start(): Promise<void>
}

const onPath = async (program: string, path: string): Promise<boolean> =>
  run('sh', ['-c', `command -v ${program}`], { env: { PATH: path } }).then(
    () => true,
    () => false,
  )

/**
 * Where initdb and pg_ctl are: Debian and Ubuntu install them under /usr/lib/postgresql/VERSION/bin, off
 * PATH, so when PATH has no initdb the server's own bindir (pg_config) or the newest installed version is used.
 */
async function serverBinDir(path: string): Promise<string | undefined> {
  if (await onPath('initdb', path)) return undefined
  const fromPgConfig = await run('pg_config', ['--bindir'], { env: { PATH: path } }).then(
    ({ stdout }) => stdout.trim(),
    () => '',
  )
  if (fromPgConfig !== '' && existsSync(join(fromPgConfig, 'initdb'))) return fromPgConfig
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a))
    : []
  if (versions[0] === undefined) throw new Error('initdb is neither on PATH nor under /usr/lib/postgresql')
  return join(root, versions[0], 'bin')
}

/** The PATH the server's programs run with: the parent's, behind the folder of initdb when it is off PATH. */
export async function serverPath(path = process.env.PATH ?? ''): Promise<string> {
  const bin = await serverBinDir(path)
  return bin === undefined ? path : `${bin}:${path}`
}

/**
 * A PostgreSQL server of the test's own, in a temporary folder on a free port, for tests that stop it: the
 * shared one is never stopped. `settings` are passed as `-c NAME=VALUE`. Removed when the test ends.
 */
export async function startPrivateServer(settings: Record<string, string> = {}): Promise<PrivateServer> {
  const dir = tempDir('tylt-relay-pg-')
  const data = join(dir, 'data')
  const user = serverUser()
  if (user !== undefined) chownSync(dir, user.uid, user.gid)
  const options = { ...(user ?? {}), env: { PATH: await serverPath(), LC_ALL: 'C' } }
  await run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8'], options)
  const port = await freePort()
  const extra = Object.entries(settings).map(([name, value]) => ` -c ${name}=${value}`)
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=40${extra.join('')}`
  const start = async () => {
    await run(
      'pg_ctl',
      ['-D', data, '-o', serverOptions, '-l', join(dir, 'server.log'), '-w', 'start'],
      options,
    )
  }
  const stopIn = (mode: 'fast' | 'immediate') => async () => {
    await run('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop'], options).catch(() => {})
  }
  await start()
  onTestFinished(stopIn('immediate'))
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop: stopIn('fast'),
    crash: stopIn('immediate'),
    start,
  }
}
