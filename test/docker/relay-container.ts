import { createHmac } from 'node:crypto'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll } from 'vitest'
import { docker, images, LABEL, published, until } from './engine.js'

/** How docker/kubernetes runs the relay: read-only root, no capabilities, bounded memory, uid 1000. */
export const HARDENED = [
  '--read-only',
  '--tmpfs',
  '/tmp',
  '--cap-drop',
  'ALL',
  '--security-opt',
  'no-new-privileges',
  '--memory',
  '256m',
  '--user',
  '1000:1000',
] as const

export const FIXTURE = readFileSync(resolve(import.meta.dirname, '../fixtures/cpg-pay-in.json'))
export const SECRET_MOUNT = '/run/secrets/tylt'

export const signature = (secret: string, body: Buffer | string) =>
  createHmac('sha256', secret).update(body).digest('hex')

/** A fixture body with its own order id, so each callback is a new event. */
export function callbackBody(orderId: string): Buffer {
  const body = JSON.parse(FIXTURE.toString('utf8')) as { data: Record<string, unknown> }
  return Buffer.from(
    JSON.stringify({ ...body, data: { ...body.data, orderId, merchantOrderId: `m-${orderId}` } }),
  )
}

const hostDirs: string[] = []
// Registered when a test file imports this module: runs after all of that file's tests.
afterAll(() => {
  for (const dir of hostDirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** A folder the containers can read, removed after the file's tests. */
export function hostDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `tylt-relay-docker-${prefix}-`))
  chmodSync(dir, 0o755)
  hostDirs.push(dir)
  return dir
}

let generation = 0
/**
 * Writes files the way the kubelet lays out a mounted Secret: the data in a timestamped folder, `..data` a
 * symlink to it, and each name a symlink through `..data`. Called again, it swaps `..data` atomically.
 */
export function writeKubeSecret(dir: string, files: Record<string, string>): void {
  const stamp = `..${new Date().toISOString().replace(/[:.]/g, '_')}.${generation++}`
  mkdirSync(join(dir, stamp), { mode: 0o755 })
  for (const [name, content] of Object.entries(files))
    writeFileSync(join(dir, stamp, name), content, { mode: 0o644 })
  const previous = existsSync(join(dir, '..data')) ? readlinkSync(join(dir, '..data')) : undefined
  symlinkSync(stamp, join(dir, '..data_tmp'))
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'))
  for (const name of Object.keys(files)) {
    try {
      symlinkSync(join('..data', name), join(dir, name))
    } catch {
      // Already there from the first write: it points through ..data.
    }
  }
  if (previous !== undefined) rmSync(join(dir, previous), { recursive: true, force: true })
}

export interface RelayContainer {
  readonly name: string
  /** Base URLs on the host's loopback; read again after a restart (published ports change). */
  urls(): Promise<{ url: string; opsUrl: string }>
  /** What `tylt-relay events list --json` says inside the container. */
  events(): Promise<Array<{ id: string; state: string; service: string }>>
}

export interface RelayOptions {
  readonly name: string
  readonly volume: string
  readonly secrets: string
  readonly env?: Record<string, string>
  readonly network?: string
  /** What to mount on /data: the named volume by default. */
  readonly dataMount?: string
}

/** `docker run -d` of the relay's image, hardened, ports published on 127.0.0.1 only. */
export async function runRelay(options: RelayOptions): Promise<RelayContainer> {
  const env = { TYLT_SECRET_DEMO_FILE: `${SECRET_MOUNT}/demo`, LOG_LEVEL: 'info', ...options.env }
  await docker([
    'run',
    '-d',
    '--name',
    options.name,
    '--label',
    LABEL,
    ...HARDENED,
    ...(options.network === undefined ? [] : ['--network', options.network]),
    '-v',
    `${options.dataMount ?? options.volume}:/data`,
    '-v',
    `${options.secrets}:${SECRET_MOUNT}:ro`,
    '-p',
    '127.0.0.1::3000',
    '-p',
    '127.0.0.1::9090',
    ...Object.entries(env).flatMap(([key, value]) => ['-e', `${key}=${value}`]),
    images().relay,
  ])
  return relayContainer(options.name)
}

export function relayContainer(name: string): RelayContainer {
  return {
    name,
    urls: async () => ({ url: await published(name, 3000), opsUrl: await published(name, 9090) }),
    events: async () => {
      const { stdout } = await docker(['exec', name, 'node', 'dist/cli.js', 'events', 'list', '--json'])
      return JSON.parse(stdout) as Array<{ id: string; state: string; service: string }>
    },
  }
}

/**
 * Waits until the relay answers its liveness probe from the host. Each try is bounded: Docker's port proxy
 * accepts a connection before the relay listens, and such a request may hang rather than fail.
 */
export async function ready(
  relay: RelayContainer,
  timeoutMs = 60_000,
): Promise<{ url: string; opsUrl: string }> {
  return until(
    async () => {
      try {
        const urls = await relay.urls()
        return (await fetch(`${urls.opsUrl}/healthz`, { signal: AbortSignal.timeout(2000) })).ok
          ? urls
          : undefined
      } catch {
        return undefined
      }
    },
    (urls) => urls !== undefined,
    timeoutMs,
  ) as Promise<{ url: string; opsUrl: string }>
}

/** POSTs a callback for service `demo`; resolves with status and body. */
export async function postCallback(url: string, body: Buffer, sig: string): Promise<[number, string]> {
  const answer = await fetch(`${url}/webhooks/demo`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-tlp-signature': sig },
    body,
    // A connection Docker's port proxy accepted before the relay listens may hang instead of failing.
    signal: AbortSignal.timeout(10_000),
  })
  return [answer.status, await answer.text()]
}
