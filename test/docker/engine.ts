import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { afterAll, inject } from 'vitest'

/** Every container, volume and network a test makes carries this label, so a run removes only its own. */
export const LABEL = 'org.tylt-relay.test'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The relay's image, built from a clean checkout by the global setup. */
    relayImage: string
    /** The stand-ins of the public images (see stand-in-images.sh). */
    nodeImage: string
    redisImage: string
    /** A clean checkout of the commit under test (git archive of HEAD). */
    checkout: string
  }
}

export const images = () => ({
  relay: inject('relayImage'),
  node: inject('nodeImage'),
  redis: inject('redisImage'),
  checkout: inject('checkout'),
})

export interface Result {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs a docker command to its end; `check` (the default) rejects with its output when it fails. */
export function docker(
  args: readonly string[],
  options: { check?: boolean; env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<Result> {
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/root',
    DOCKER_BUILDKIT: '0',
    ...options.env,
  }
  return new Promise((resolve, reject) => {
    execFile(
      args[0] === 'docker-compose' ? 'docker-compose' : 'docker',
      args[0] === 'docker-compose' ? args.slice(1) : args,
      { env, cwd: options.cwd, maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 300_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1
        const result = { code, stdout: stdout.toString(), stderr: stderr.toString() }
        if (code !== 0 && options.check !== false)
          reject(new Error(`docker ${args.join(' ')} exited with ${code}:\n${result.stderr.slice(-4000)}`))
        else resolve(result)
      },
    )
  })
}

/** A name no other run uses; resources with it are removed after the file's tests. */
export function uniqueName(prefix: string): string {
  return `tylt-relay-test-${prefix}-${randomBytes(4).toString('hex')}`
}

/** Removes this file's containers, volumes and networks (by name) after its tests, whatever happened. */
export function cleanupAfterAll(): {
  container(name: string): string
  volume(name: string): string
  network(name: string): string
} {
  const containers: string[] = []
  const volumes: string[] = []
  const networks: string[] = []
  afterAll(async () => {
    if (containers.length > 0) await docker(['rm', '-f', '-v', ...containers], { check: false })
    if (volumes.length > 0) await docker(['volume', 'rm', '-f', ...volumes], { check: false })
    for (const network of networks) await docker(['network', 'rm', network], { check: false })
  })
  const keep = (into: string[]) => (name: string) => {
    into.push(name)
    return name
  }
  return { container: keep(containers), volume: keep(volumes), network: keep(networks) }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls until `check` holds; throws with the last value after `timeoutMs`. */
export async function until<T>(
  read: () => Promise<T>,
  check: (value: T) => boolean,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (check(value)) return value
    if (Date.now() > deadline)
      throw new Error(`not within ${timeoutMs} ms; last: ${JSON.stringify(value).slice(0, 2000)}`)
    await sleep(250)
  }
}

/** One field of `docker inspect`, as a Go template gives it. */
export async function inspect(name: string, template: string): Promise<string> {
  return (await docker(['inspect', '-f', template, name])).stdout.trim()
}

/** The host address and port (on 127.0.0.1) that a container port is published on. */
export async function published(name: string, port: number): Promise<string> {
  const line = (await docker(['port', name, `${port}/tcp`])).stdout
    .split('\n')
    .find((l) => l.startsWith('127.0.0.1:'))
  if (line === undefined) throw new Error(`${name}: port ${port} is not published on 127.0.0.1`)
  return `http://${line.trim()}`
}

/** Container logs (stdout and stderr together). */
export async function logs(name: string): Promise<string> {
  const { stdout, stderr } = await docker(['logs', name], { check: false })
  return stdout + stderr
}
