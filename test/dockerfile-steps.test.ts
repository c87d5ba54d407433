import { spawn } from 'node:child_process'
import { createHmac } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { describe, expect, test } from 'vitest'
import { tempDir } from './helpers/index.js'
import { RELAY_NODE_FLAGS, startRelay } from './helpers/relay-process.js'
import {
  copyParts,
  envPairs,
  execForm,
  instructions,
  parseDockerfile,
  type Stage,
} from './ops/parse-dockerfile.js'

const ROOT = resolve(import.meta.dirname, '..')
const dockerfile = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))
const build = dockerfile.stages.find((s) => s.name === 'build')!
const runtime = dockerfile.stages.at(-1)!
const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>
}

/** Build-stage steps that install tools on the image rather than build the project; the test skips them. */
const TOOLCHAIN = [/^apt-get /, /^rm -rf \/var\/lib\/apt\/lists/, /^npm install -g npm@/]
const isToolchain = (command: string) => TOOLCHAIN.some((pattern) => pattern.test(command))
const runSteps = (stage: Stage) => instructions(stage, 'RUN').flatMap((run) => run.split(' && '))

/**
 * What the build steps get of this machine's environment, named one by one: where the tools are (PATH, and
 * pyenv's root for the Python that node-gyp runs), npm's settings (HOME for ~/.npmrc; the cache), how to
 * reach the registry (proxies, CA files) and what node-gyp reads to pick a compiler. The relay's variables
 * of a developer's shell (PORT, TYLT_SECRET_...) and what `npm test` exports for this checkout
 * (npm_lifecycle_*, npm_config_local_prefix naming the repository) stay out, as in a clean image.
 */
const PASSED = new Set([
  'PATH',
  'HOME',
  'TMPDIR',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'PYENV_ROOT',
  'PYTHON',
  'CC',
  'CXX',
  'MAKE',
])
const PASSED_NPM_CONFIG = /^npm_config_(cache|registry|proxy|https_proxy|noproxy|cafile)$/i

function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && (PASSED.has(key) || PASSED_NPM_CONFIG.test(key))) env[key] = value
  }
  // As the Dockerfile's `ENV npm_package_config_node_gyp_nodedir`: compile the native binding against the
  // headers of the Node that runs it, not whatever an npmrc of this machine names.
  const nodeHome = dirname(dirname(process.execPath))
  if (existsSync(join(nodeHome, 'include/node/node.h'))) env.npm_package_config_node_gyp_nodedir = nodeHome
  return { ...env, ...extra }
}

/** Runs a command to its end; rejects with its output when it fails. */
function run(argv: readonly string[], cwd: string, env: Record<string, string>): Promise<void> {
  const [file, ...args] = argv
  const command = argv.join(' ')
  return new Promise((done, fail) => {
    const child = spawn(file!, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.on('error', fail)
    child.on('exit', (code) =>
      code === 0 ? done() : fail(new Error(`"${command}" exited with ${code}:\n${output.slice(-4000)}`)),
    )
  })
}

/** A RUN line, the way Docker's shell form runs it. */
const sh = (command: string, cwd: string, env: Record<string, string>) =>
  run(['/bin/sh', '-c', command], cwd, env)

/** COPY into the image's WORKDIR: several sources (or a `dir/` destination) land inside it by name. */
function copy(sources: readonly string[], dest: string, fromDir: string, workdir: string) {
  for (const source of sources) {
    const target =
      dest.endsWith('/') || sources.length > 1 ? join(workdir, dest, basename(source)) : join(workdir, dest)
    cpSync(join(fromDir, source), target, { recursive: true, verbatimSymlinks: true })
  }
}

describe('Dockerfile', () => {
  test('builds on Node 24 in two stages and runs node as a non-root user under tini', () => {
    for (const stage of dockerfile.stages) expect(stage.image).toMatch(/^node:24[-.]/)
    expect(build).toBeDefined()
    expect(runSteps(build).filter((step) => step.startsWith('npm ') && !isToolchain(step))).toEqual([
      'npm ci --no-audit --no-fund',
      'npm run build',
      'npm prune --omit=dev --no-audit --no-fund',
    ])
    expect(instructions(runtime, 'USER')).toHaveLength(1)
    expect(instructions(runtime, 'USER')[0]).not.toMatch(/^(0|root)\b/)
    expect(execForm(instructions(runtime, 'ENTRYPOINT')[0]!)).toEqual(['/usr/bin/tini', '--'])
    // The same node flags as the CLI's own first line and `npm start`.
    expect(RELAY_NODE_FLAGS).toEqual(['--max-semi-space-size=4', '--max-old-space-size=1024'])
    expect(execForm(instructions(runtime, 'CMD')[0]!)).toEqual([
      'node',
      ...RELAY_NODE_FLAGS,
      'dist/cli.js',
      'serve',
    ])
    // `exec`: the shell npm runs the script in becomes the relay, so npm's SIGTERM reaches it.
    expect(packageJson.scripts.start).toBe(
      ['exec', 'node', ...RELAY_NODE_FLAGS, 'dist/cli.js', 'serve'].join(' '),
    )
    expect(instructions(runtime, 'EXPOSE')).toEqual(['3000 9090'])
    expect(envPairs(instructions(runtime, 'ENV').join(' ')).DATA_DIR).toBe('/data')
    expect(instructions(runtime, 'VOLUME')).toEqual(['["/data"]'])
    expect(execForm(instructions(runtime, 'HEALTHCHECK')[0]!)[0]).toBe('node')
    // Secrets come at run time, never from the image (ENV and ARG values stay in its layers and history).
    const settings = dockerfile.stages.flatMap((stage) => [
      ...instructions(stage, 'ENV'),
      ...instructions(stage, 'ARG'),
    ])
    expect(settings.join(' ')).not.toMatch(/TYLT_SECRET_|FORWARD_SIGNING_SECRET/)
    expect(Object.keys(dockerfile.args).join(' ')).not.toMatch(/SECRET/)
  })

  test('needs no BuildKit frontend and sets no npm configuration npm does not know', () => {
    const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
    // A `# syntax=` line makes the builder fetch a frontend image from a registry before anything else.
    expect(text).not.toMatch(/^#\s*syntax\s*=/im)
    const settings = dockerfile.stages.flatMap((stage) =>
      Object.keys(envPairs(instructions(stage, 'ENV').join(' '))),
    )
    // npm 11 warns `Unknown env config "nodedir"` at every step; node-gyp reads its own prefix too.
    expect(settings.filter((name) => /^npm_config_/i.test(name))).toEqual([])
    expect(settings).toContain('npm_package_config_node_gyp_nodedir')
  })

  test('.dockerignore keeps local state out of the context but nothing the build copies', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
    for (const local of ['.git', '.env', 'node_modules', 'dist', 'data', 'coverage'])
      expect(ignored).toContain(local)
    const copied = instructions(build, 'COPY').flatMap((args) => copyParts(args).sources)
    for (const source of copied) {
      const hit = ignored.filter((pattern) => source === pattern || source.startsWith(`${pattern}/`))
      expect(hit, source).toEqual([])
    }
  })

  test('its build steps, run without Docker, give an image that serves, checks health and stops cleanly', async () => {
    const buildDir = tempDir('tylt-relay-image-build-')
    const runtimeDir = tempDir('tylt-relay-image-run-')
    // The build stage: every COPY from the context and every RUN that is not tool installation, in order.
    // Its ENV is not applied: it points node-gyp at the image's Node headers, and this machine has its own.
    const env = cleanEnv({ npm_config_prefer_offline: 'true' })
    for (const { keyword, args } of build.instructions) {
      if (keyword === 'COPY') {
        const { from, sources, dest } = copyParts(args)
        expect(from).toBeUndefined()
        for (const source of sources) expect(existsSync(join(ROOT, source)), source).toBe(true)
        copy(sources, dest, ROOT, buildDir)
      }
      if (keyword === 'RUN') {
        for (const step of args.split(' && ')) if (!isToolchain(step)) await sh(step, buildDir, env)
      }
    }
    // The runtime stage sees only what it copies from the build stage.
    for (const args of instructions(runtime, 'COPY')) {
      const { from, sources, dest } = copyParts(args)
      expect(from).toBe('build')
      copy(
        sources.map((s) => s.replace(/^\/app\//, '')),
        dest,
        buildDir,
        runtimeDir,
      )
    }
    expect(existsSync(join(runtimeDir, 'node_modules', 'typescript')), 'dev dependencies pruned').toBe(false)
    const sqlite = join(runtimeDir, 'node_modules', 'better-sqlite3')
    expect(
      readdirSync(join(sqlite, 'build'), { recursive: true }).sort(),
      'only the binding is kept',
    ).toEqual(['Release', join('Release', 'better_sqlite3.node')])
    for (const leftover of ['deps', 'src']) expect(existsSync(join(sqlite, leftover)), leftover).toBe(false)

    const dataDir = join(tempDir(), 'data')
    mkdirSync(dataDir)
    const secret = 'image-test-secret-5c2e'
    const relay = await startRelay(
      { ...envPairs(instructions(runtime, 'ENV').join(' ')), DATA_DIR: dataDir, TYLT_SECRET_DEMO: secret },
      { cwd: runtimeDir, command: execForm(instructions(runtime, 'CMD')[0]!), readyTimeoutMs: 30_000 },
    )
    const body = readFileSync(join(ROOT, 'test/fixtures/cpg-pay-in.json'))
    const signature = createHmac('sha256', secret).update(body).digest('hex')
    const answer = await fetch(`${relay.url}/webhooks/demo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tlp-signature': signature },
      body,
    })
    expect([answer.status, await answer.text()]).toEqual([200, 'ok'])
    expect((await fetch(`${relay.opsUrl}/healthz`)).status).toBe(200)

    const opsPort = new URL(relay.opsUrl).port
    const healthcheck = execForm(instructions(runtime, 'HEALTHCHECK')[0]!)
    const healthEnv = { PATH: process.env.PATH ?? '', OPS_PORT: opsPort }
    await run(healthcheck, runtimeDir, healthEnv)

    expect(await relay.stop('SIGTERM'), relay.output()).toBe(0)
    // A check that cannot fail proves nothing: with the relay gone it must report unhealthy.
    await expect(run(healthcheck, runtimeDir, healthEnv)).rejects.toThrow(/exited with 1/)
  }, 600_000)
})
