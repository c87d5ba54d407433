import { execFile, execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { fixture } from '../helpers/fixtures.js'
import { SECRETS, sign, tempDir } from '../helpers/index.js'
import { inheritedEnv, post, startRelay } from '../helpers/relay-process.js'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string
  engines: { node: string }
}

/**
 * npm's own settings of this machine (registry, CA file, cache): the install may reach the registry for
 * package metadata (tarballs come from the cache when they are there). Nothing else of the environment:
 * they are read from npm's config files alone, outside the repository and without the variables of the
 * shell or of `npm test`.
 */
function npmEnv(home: string): Record<string, string> {
  const outside = tempDir('tylt-relay-npm-config-')
  const get = (key: string) =>
    execFileSync('npm', ['config', 'get', key], {
      cwd: outside,
      env: { ...inheritedEnv(), HOME: homedir() },
      encoding: 'utf8',
    }).trim()
  return {
    ...inheritedEnv(),
    HOME: home,
    npm_config_globalconfig: get('globalconfig'),
    npm_config_userconfig: join(homedir(), '.npmrc'),
    npm_config_cache: get('cache'),
    npm_config_update_notifier: 'false',
  }
}

/**
 * A folder holding this checkout's better-sqlite3 binding, packed as prebuild-install names and lays out a
 * prebuilt binary for this Node (`better-sqlite3-v<version>-node-v<abi>-<platform>-<arch>.tar.gz`).
 */
function localPrebuild(work: string): string {
  const sqlite = join(ROOT, 'node_modules', 'better-sqlite3')
  const { version } = JSON.parse(readFileSync(join(sqlite, 'package.json'), 'utf8')) as { version: string }
  const dir = join(work, 'prebuilds')
  mkdirSync(dir)
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`
  execFileSync('tar', ['czf', join(dir, name), '-C', sqlite, 'build/Release/better_sqlite3.node'])
  return dir
}

describe('the packed CLI', () => {
  it('installs from its tarball into a clean prefix and runs from outside the repo', {
    timeout: 600_000,
  }, async () => {
    const work = tempDir('tylt-relay-pack-')
    const env = npmEnv(work)
    const { stdout } = await run('npm', ['pack', '--pack-destination', work, '--silent'], { cwd: ROOT, env })
    const tarball = join(work, stdout.trim().split('\n').at(-1)!)
    expect(tarball).toBe(join(work, `tylt-relay-${pkg.version}.tgz`))
    const listing = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).split('\n')
    expect(listing).toContain('package/dist/cli.js')
    expect(listing.filter((f) => f.startsWith('package/src/') || f.startsWith('package/test/'))).toEqual([])

    const prefix = join(work, 'prefix')
    // better-sqlite3's install script (which npm 11 runs for a global install only when allowed by name)
    // fetches a prebuilt binding, else compiles SQLite: minutes on a busy two-core machine. The prebuilt
    // binaries are not reachable here, so the install is given one as a local prebuild, packed from the
    // binding this checkout built for this Node: the path a user's install takes, without the download.
    const args = ['install', '-g', '--prefix', prefix, tarball, '--allow-scripts=better-sqlite3']
    await run('npm', [...args, '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: work,
      env: { ...env, npm_config_better_sqlite3_local_prebuilds: localPrebuild(work) },
      timeout: 540_000,
    })
    const bin = join(prefix, 'bin', 'tylt-relay')
    const elsewhere = tempDir('tylt-relay-elsewhere-')
    const cli = (argv: string[], input?: string) =>
      new Promise<string>((resolve, reject) => {
        const child = execFile(
          bin,
          argv,
          { cwd: elsewhere, env: { ...inheritedEnv(), TYLT_SECRET_CPG: SECRETS.cpg } },
          (err, out) => (err === null ? resolve(out) : reject(err)),
        )
        child.stdin?.end(input ?? '')
      })
    expect(await cli(['--version'])).toBe(`tylt-relay ${pkg.version}\n`)
    expect(await cli(['sign', '--service', 'cpg'], '{"a":1}')).toBe(`${sign(SECRETS.cpg, '{"a":1}')}\n`)

    // And it serves: the native store binding was built.
    const relay = await startRelay(
      { TYLT_SECRET_CPG: SECRETS.cpg, DATA_DIR: join(elsewhere, 'data') },
      { command: [bin, 'serve'], cwd: elsewhere, readyTimeoutMs: 30_000 },
    )
    const body = fixture('cpg-pay-in.json')
    expect(await post(`${relay.url}/webhooks/cpg`, body, sign(SECRETS.cpg, body))).toEqual({
      status: 200,
      body: 'ok',
    })
    expect(await relay.stop()).toBe(0)
  })
})

describe('supported Node versions', () => {
  it('engines names Node 20 (from 20.12), 22 and 24', () => {
    expect(pkg.engines.node).toBe('^20.12.0 || ^22.0.0 || ^24.0.0')
  })

  it('the only installed packages that declare Node 22 or later are the ones docs/cli.md names', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version: string; dev?: boolean; engines?: { node?: string } }>
    }
    // A lower bound above 20 with no alternative (`>=22`, `>= 22.x`, `^22`): npm ci on Node 20 warns for each.
    const excludes20 = (range: string) =>
      /^\s*(>=?|\^)\s*v?(2[1-9]|[3-9]\d)/.test(range) && !range.includes('||')
    const warned = Object.entries(lock.packages)
      .filter(([path, p]) => path !== '' && p.dev !== true && p.engines?.node && excludes20(p.engines.node))
      .map(([path, p]) => `${path.replace(/^.*node_modules\//, '')}@${p.version}`)
    expect(warned.sort()).toEqual(['@nats-io/nuid@3.0.0', 'cookie@2.0.2'])
    const doc = readFileSync(join(ROOT, 'docs/cli.md'), 'utf8')
    for (const name of warned) expect(doc).toContain(`\`${name}\``)
  })
})
