import { mkdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pino from 'pino'
import { describe, expect, it, onTestFinished } from 'vitest'
import { SecretRegistry } from '../../src/config/secret-registry.js'
import { loadServices } from '../../src/config/service-secrets.js'
import { DEMO_SECRET } from '../../src/constants.js'
import { verifySignature } from '../../src/verify/verify-signature.js'
import { sign, tempDir } from '../helpers/index.js'

const BODY = Buffer.from('{"type":"pay-in","data":{"orderId":"o-1","status":"Completed"}}')
const OLD = 'rotation-old-4d1c'
const NEW = 'rotation-new-9e7a'
const NEWER = 'rotation-newer-20bb'

type LogLine = { level: number; msg: string; [key: string]: unknown }

/** A registry over `env`, with every log line it writes captured as parsed JSON. */
function registryOf(env: Record<string, string>) {
  const problems: string[] = []
  const definitions = loadServices(env, problems)
  expect(problems).toEqual([])
  const lines: LogLine[] = []
  const raw: string[] = []
  const logger = pino(
    { level: 'debug' },
    {
      write(line: string) {
        raw.push(line)
        lines.push(JSON.parse(line) as LogLine)
      },
    },
  )
  const registry = new SecretRegistry(definitions, logger)
  return { registry, lines, raw }
}

/** The slot (0 = current) of the secret that verifies a body signed with `secret`, or -1 when refused. */
function slotOf(registry: SecretRegistry, service: string, secret: string): number {
  const keys = registry.get(service)
  if (keys === undefined) return -1
  const result = verifySignature([keys], BODY, sign(secret, BODY), false)
  return result.ok ? result.slot : -1
}

const reloads = (lines: readonly LogLine[]) => lines.filter((l) => l.msg === 'secrets reloaded')
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function eventually(check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await sleep(20)
  }
}

function watching(registry: SecretRegistry) {
  const stop = registry.watch()
  onTestFinished(stop)
  return stop
}

/** No captured line may carry a secret value. */
function expectNoSecretIn(raw: readonly string[]) {
  for (const line of raw) for (const secret of [OLD, NEW, NEWER]) expect(line).not.toContain(secret)
}

describe('several secrets per service', () => {
  it('accepts every comma-separated inline secret, the first as current', () => {
    const { registry } = registryOf({ TYLT_SECRET_PRIME_UPI: ` ${NEW} , ${OLD} ,${NEWER}` })
    expect([NEW, OLD, NEWER].map((s) => slotOf(registry, 'prime-upi', s))).toEqual([0, 1, 2])
    expect(slotOf(registry, 'prime-upi', 'not-configured')).toBe(-1)
  })

  it('accepts every line of a secret file (CRLF and blank lines tolerated)', () => {
    const file = join(tempDir(), 'x')
    writeFileSync(file, `${NEW}\r\n\r\n${OLD}\r\n`)
    const { registry } = registryOf({ TYLT_SECRET_X_FILE: file })
    expect([NEW, OLD].map((s) => slotOf(registry, 'x', s))).toEqual([0, 1])
    expect(registry.get('x')?.secrets).toHaveLength(2)
  })
})

describe('reload()', () => {
  it('re-reads the file: a new secret works at once, a removed one stops working', () => {
    const file = join(tempDir(), 'x')
    writeFileSync(file, OLD)
    const { registry, lines, raw } = registryOf({ TYLT_SECRET_X_FILE: file })
    expect(slotOf(registry, 'x', NEW)).toBe(-1)

    writeFileSync(file, `${NEW}\n${OLD}\n`)
    expect(registry.reload()).toBe(1)
    expect([slotOf(registry, 'x', NEW), slotOf(registry, 'x', OLD)]).toEqual([0, 1])
    // `POST /webhooks` (no service in the path) sees the new keys too.
    expect(registry.all()[0]?.secrets).toHaveLength(2)

    writeFileSync(file, `${NEW}\n`)
    expect(registry.reload()).toBe(1)
    expect([slotOf(registry, 'x', NEW), slotOf(registry, 'x', OLD)]).toEqual([0, -1])
    expect(registry.reload()).toBe(0)
    expect(reloads(lines).map((l) => [l.service, l.secrets])).toEqual([
      ['x', 2],
      ['x', 1],
    ])
    expectNoSecretIn(raw)
  })

  it('leaves inline secrets alone', () => {
    const { registry, lines } = registryOf({ TYLT_SECRET_CPG: OLD })
    expect(registry.reload()).toBe(0)
    expect(slotOf(registry, 'cpg', OLD)).toBe(0)
    expect(lines).toEqual([])
  })

  it.each([
    [
      'is empty (half written)',
      (file: string) => writeFileSync(file, ''),
      'TYLT_SECRET_X_FILE: the secret file holds no secret',
    ],
    [
      'holds only blank lines',
      (file: string) => writeFileSync(file, '\n \r\n\n'),
      'TYLT_SECRET_X_FILE: the secret file holds no secret',
    ],
    [
      'is gone',
      (file: string) => unlinkSync(file),
      'TYLT_SECRET_X_FILE: cannot read the secret file it names (ENOENT); it must hold a path, not a secret',
    ],
    [
      'cannot be read (a folder in its place)',
      (file: string) => {
        unlinkSync(file)
        mkdirSync(file)
      },
      'TYLT_SECRET_X_FILE: cannot read the secret file it names (EISDIR); it must hold a path, not a secret',
    ],
  ])('keeps the working secrets when the file %s, and logs the problem', (_name, breakFile, error) => {
    const file = join(tempDir(), 'x')
    writeFileSync(file, `${NEW}\n${OLD}\n`)
    const { registry, lines, raw } = registryOf({ TYLT_SECRET_X_FILE: file, TYLT_SECRET_CPG: NEWER })
    breakFile(file)
    expect(registry.reload()).toBe(0)
    expect([slotOf(registry, 'x', NEW), slotOf(registry, 'x', OLD)]).toEqual([0, 1])
    expect(slotOf(registry, 'cpg', NEWER)).toBe(0)
    const errors = lines.filter((l) => l.level >= 50)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatchObject({
      service: 'x',
      msg: 'secret file not reloaded; the previous secrets stay active',
      error,
    })
    expect(errors[0]!.file).toBe(file)
    expectNoSecretIn(raw)
  })

  it.each([
    [
      'the public demo secret beside another service',
      'TYLT_SECRET_DEMO_FILE',
      DEMO_SECRET,
      'TYLT_SECRET_DEMO_FILE: holds the public demo secret of .env.example while other services are configured (cpg); remove it or use the secret key from the Tylt dashboard',
    ],
    [
      'the public demo secret for a service other than demo',
      'TYLT_SECRET_X_FILE',
      DEMO_SECRET,
      'TYLT_SECRET_X_FILE: secret 1 of 2 is the public demo secret of .env.example; use the secret key from the Tylt dashboard',
    ],
    [
      'a secret shorter than 16 bytes',
      'TYLT_SECRET_X_FILE',
      'short-9c1e',
      'TYLT_SECRET_X_FILE: secret 1 of 2 is shorter than 16 bytes; use the secret key from the Tylt dashboard',
    ],
    [
      'the secret of another service',
      'TYLT_SECRET_X_FILE',
      NEWER,
      'TYLT_SECRET_X_FILE: holds a secret that TYLT_SECRET_CPG holds too; each Tylt service has its own secret key',
    ],
  ])(
    'refuses a file that now holds %s as at start: the old keys stay, the new one is not live, one error without the value',
    (_name, variable, added, error) => {
      const file = join(tempDir(), 'secret')
      writeFileSync(file, `${OLD}\n`)
      const { registry, lines, raw } = registryOf({ [variable]: file, TYLT_SECRET_CPG: NEWER })
      const service = variable === 'TYLT_SECRET_DEMO_FILE' ? 'demo' : 'x'
      writeFileSync(file, `${added}\n${OLD}\n`)
      expect(registry.reload()).toBe(0)
      expect(slotOf(registry, service, OLD)).toBe(0)
      expect(slotOf(registry, service, added)).toBe(-1)
      expect(slotOf(registry, 'cpg', NEWER)).toBe(0)
      expect(registry.all().find((keys) => keys.name === service)?.secrets).toHaveLength(1)
      const errors = lines.filter((l) => l.level >= 50)
      expect(errors).toEqual([
        expect.objectContaining({
          service,
          file,
          error,
          msg: 'secret file not reloaded; the previous secrets stay active',
        }),
      ])
      expect(reloads(lines)).toEqual([])
      expectNoSecretIn(raw)
      for (const line of raw) expect(line).not.toContain(added)
    },
  )
})

describe('watch()', () => {
  it('reloads once after a burst of writes, and takes the last content', async () => {
    const file = join(tempDir(), 'x')
    writeFileSync(file, OLD)
    const { registry, lines } = registryOf({ TYLT_SECRET_X_FILE: file })
    watching(registry)
    for (let i = 0; i < 20; i++) writeFileSync(file, `intermediate-${i}\n`)
    writeFileSync(file, `${NEW}\n${OLD}\n`)
    await eventually(() => slotOf(registry, 'x', NEW) === 0)
    await sleep(600)
    expect(reloads(lines)).toHaveLength(1)
    expect(slotOf(registry, 'x', 'intermediate-19')).toBe(-1)
    expect(slotOf(registry, 'x', OLD)).toBe(1)
  })

  it('follows a Kubernetes-style atomic swap of the ..data symlink', async () => {
    const mount = tempDir()
    const publish = (version: string, content: string) => {
      mkdirSync(join(mount, version))
      writeFileSync(join(mount, version, 'x'), content)
      symlinkSync(version, join(mount, '..data_tmp'))
      renameSync(join(mount, '..data_tmp'), join(mount, '..data'))
    }
    publish('..2026_01_01_00_00_00.1', `${OLD}\n`)
    symlinkSync('..data/x', join(mount, 'x'))
    const { registry, lines } = registryOf({ TYLT_SECRET_X_FILE: join(mount, 'x') })
    watching(registry)
    expect(slotOf(registry, 'x', OLD)).toBe(0)

    publish('..2026_01_02_00_00_00.1', `${NEW}\n${OLD}\n`)
    rmSync(join(mount, '..2026_01_01_00_00_00.1'), { recursive: true })
    await eventually(() => slotOf(registry, 'x', NEW) === 0)
    expect(slotOf(registry, 'x', OLD)).toBe(1)

    // A second swap still reaches the registry, though the first version's folder is gone.
    publish('..2026_01_03_00_00_00.1', `${NEW}\n`)
    await eventually(() => slotOf(registry, 'x', OLD) === -1)
    expect(slotOf(registry, 'x', NEW)).toBe(0)
    expect(reloads(lines)).toHaveLength(2)
  })

  it('follows a file edited in place behind an operator-made symlink to another folder', async () => {
    const vault = tempDir()
    const config = tempDir()
    writeFileSync(join(vault, 'tylt-x'), OLD)
    symlinkSync(join(vault, 'tylt-x'), join(config, 'x'))
    const { registry } = registryOf({ TYLT_SECRET_X_FILE: join(config, 'x') })
    watching(registry)
    writeFileSync(join(vault, 'tylt-x'), `${NEW}\n${OLD}\n`)
    await eventually(() => slotOf(registry, 'x', NEW) === 0)
  })

  it('keeps the working secrets through a truncation, then takes the completed write', async () => {
    const file = join(tempDir(), 'x')
    writeFileSync(file, OLD)
    const { registry, lines, raw } = registryOf({ TYLT_SECRET_X_FILE: file })
    watching(registry)
    writeFileSync(file, '')
    await eventually(() => lines.some((l) => l.level >= 50))
    expect(slotOf(registry, 'x', OLD)).toBe(0)
    writeFileSync(file, NEW)
    await eventually(() => slotOf(registry, 'x', NEW) === 0)
    expect(slotOf(registry, 'x', OLD)).toBe(-1)
    expectNoSecretIn(raw)
  })

  it('ignores other files in the folder, and stops when asked', async () => {
    const dir = tempDir()
    const file = join(dir, 'x')
    writeFileSync(file, OLD)
    const { registry, lines } = registryOf({ TYLT_SECRET_X_FILE: file })
    const stop = watching(registry)
    writeFileSync(join(dir, 'unrelated'), 'noise')
    await sleep(500)
    expect(lines).toEqual([])
    stop()
    writeFileSync(file, NEW)
    await sleep(500)
    expect(slotOf(registry, 'x', NEW)).toBe(-1)
    expect(slotOf(registry, 'x', OLD)).toBe(0)
  })
})
