import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { describe, expect, test } from 'vitest'
import { parseDuration } from '../../src/config/duration.js'
import { documents, expectValidConfig, isReferenceVariable, relayDeadlineSeconds } from './manifest-checks.js'
import { arr, field, list, num, obj, str } from './yaml-access.js'

const ROOT = resolve(import.meta.dirname, '../..')
const DOCKER = join(ROOT, 'docker')
const KUBE = join(DOCKER, 'kubernetes')

describe('docker/compose.yaml', () => {
  const [compose] = documents(join(DOCKER, 'compose.yaml'))
  const services = obj(field(compose, 'services'))
  const relay = obj(services.relay)
  const env = Object.fromEntries(Object.entries(obj(relay.environment)).map(([k, v]) => [k, String(v)]))

  test('builds the relay from the repository Dockerfile and the consumer from its folder', () => {
    expect(existsSync(join(resolve(DOCKER, str(field(relay, 'build', 'context'))), 'Dockerfile'))).toBe(true)
    const consumer = resolve(DOCKER, str(field(services.consumer, 'build', 'context')))
    for (const file of ['Dockerfile', 'consumer.mjs', 'package.json', 'package-lock.json']) {
      expect(existsSync(join(consumer, file)), file).toBe(true)
    }
    const dockerfile = readFileSync(join(consumer, 'Dockerfile'), 'utf8')
    expect(dockerfile).toContain('consumer.mjs')
    // The same base as the relay, and the versions of the lock file only.
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-bookworm-slim$/m)
    expect(dockerfile).toMatch(/^FROM \$\{NODE_IMAGE\}$/m)
    expect(dockerfile).toMatch(/^RUN npm ci\b/m)
    expect(dockerfile).not.toMatch(/npm install/)
    for (const service of [relay, obj(services.consumer)])
      expect(str(field(service, 'build', 'args', 'NODE_IMAGE'))).toMatch(
        /^\$\{NODE_IMAGE:-node:24-bookworm-slim\}$/,
      )
    const lock = JSON.parse(readFileSync(join(consumer, 'package-lock.json'), 'utf8'))
    const manifest = JSON.parse(readFileSync(join(consumer, 'package.json'), 'utf8'))
    expect(lock.packages[''].dependencies).toEqual(manifest.dependencies)
  })

  test('loads in docker-compose 1.29 as in Compose v2: no top-level name, secrets from files', () => {
    expect(Object.keys(obj(compose))).not.toContain('name')
    for (const [name, secret] of Object.entries(obj(field(compose, 'secrets'))))
      expect(Object.keys(obj(secret)), name).toEqual(['file'])
  })

  test('sets only documented variables, with values the relay accepts', () => {
    for (const name of Object.keys(env)) expect(isReferenceVariable(name), name).toBe(true)
    const config = expectValidConfig(env)
    expect(config.forward?.kind).toBe('redis')
  })

  test('mounts each secret as a file the relay reads, never as a variable', () => {
    const declared = Object.keys(obj(field(compose, 'secrets')))
    const granted = list(relay.secrets).map(str)
    const files = Object.entries(env).filter(([name]) => name.startsWith('TYLT_SECRET_'))
    expect(files.length).toBeGreaterThan(0)
    for (const [name, value] of files) {
      expect(name, 'secrets come from files').toMatch(/_FILE$/)
      const secret = value.replace(/^\/run\/secrets\//, '')
      expect(granted).toContain(secret)
      expect(declared).toContain(secret)
    }
  })

  test('forwards to the Redis of the stack, on the stream the consumer reads', () => {
    const url = new URL(env.FORWARD_URL ?? '')
    expect(Object.keys(services)).toContain(url.hostname)
    const consumer = obj(field(services.consumer, 'environment'))
    expect(url.searchParams.get('stream')).toBe(str(consumer.STREAM))
  })

  test('publishes the webhook and ops ports, keeps DATA_DIR on a volume and stops with grace', () => {
    const inside = list(relay.ports).map((p) => Number(str(p).split(':').at(-1)))
    expect(inside.sort()).toEqual([3000, 9090])
    // On the host's loopback only; a proxy in front terminates TLS.
    for (const port of list(relay.ports)) expect(str(port)).toMatch(/^127\.0\.0\.1:/)
    expect(list(relay.volumes).map(str)).toContain(`relay-data:${env.DATA_DIR ?? '/data'}`)
    const stop = (parseDuration(str(relay.stop_grace_period)) ?? 0) / 1000
    expect(stop).toBeGreaterThan(relayDeadlineSeconds(env))
  })
})

describe('docker/kubernetes', () => {
  const files = readdirSync(KUBE).filter((f) => f.endsWith('.yaml'))
  const manifests = files.flatMap((f) => documents(join(KUBE, f)).map(obj))
  const byKind = (kind: string) => manifests.filter((m) => m.kind === kind)
  const deployment = byKind('Deployment')[0]
  const pod = obj(field(deployment, 'spec', 'template'))
  const podSpec = obj(pod.spec)
  const relay = arr(podSpec.containers)
    .map(obj)
    .find((c) => c.name === 'tylt-relay')
  const env: Record<string, string> = Object.fromEntries(
    list(relay?.env).map((e) => [
      str(field(e, 'name')),
      typeof obj(e).value === 'string' ? str(obj(e).value) : '',
    ]),
  )

  test('every file parses and the kustomization lists them all', () => {
    expect(manifests.length).toBeGreaterThanOrEqual(3)
    const resources = list(byKind('Kustomization')[0]?.resources).map(str)
    for (const file of resources) expect(existsSync(join(KUBE, file)), file).toBe(true)
    expect(resources.sort()).toEqual(files.filter((f) => f !== 'kustomization.yaml').sort())
  })

  test('the relay sets only documented variables, with values the relay accepts', () => {
    expect(relay).toBeDefined()
    for (const name of Object.keys(env)) expect(isReferenceVariable(name), name).toBe(true)
    expectValidConfig(env)
  })

  test('probes and the Prometheus scrape use the ops port; the containers expose 3000 and 9090', () => {
    const opsPort = Number(env.OPS_PORT ?? 9090)
    expect(opsPort).toBe(9090)
    expect(field(relay, 'readinessProbe', 'httpGet')).toEqual({ path: '/readyz', port: opsPort })
    expect(field(relay, 'livenessProbe', 'httpGet')).toEqual({ path: '/healthz', port: opsPort })
    const ports = list(relay?.ports).map((p) => num(field(p, 'containerPort')))
    expect(ports.sort()).toEqual([3000, 9090])
    expect(obj(field(pod, 'metadata', 'annotations'))).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(opsPort),
      'prometheus.io/path': '/metrics',
    })
  })

  test('secret files come from a mounted Secret, DATA_DIR from a claim the manifests define', () => {
    const volumes = new Map(list(podSpec.volumes).map((v) => [str(field(v, 'name')), obj(v)]))
    const mounts = list(relay?.volumeMounts).map(obj)
    const volumeAt = (path: string) => {
      const mount = mounts.find((m) => path === str(m.mountPath) || path.startsWith(`${str(m.mountPath)}/`))
      return volumes.get(str(mount?.name))
    }
    for (const [name, path] of Object.entries(env).filter(([n]) => n.endsWith('_FILE'))) {
      const secret = obj(volumeAt(path)?.secret)
      const items = list(secret.items).map((i) => str(field(i, 'path')))
      expect(items.length === 0 || items.includes(basename(path)), name).toBe(true)
    }
    const claim = str(field(volumeAt(env.DATA_DIR ?? '/data'), 'persistentVolumeClaim', 'claimName'))
    expect(byKind('PersistentVolumeClaim').map((c) => field(c, 'metadata', 'name'))).toContain(claim)
  })

  test('runs non-root on a read-only root, bounded in memory, with time to drain', () => {
    expect(field(podSpec, 'securityContext', 'runAsNonRoot')).toBe(true)
    expect(field(relay, 'securityContext', 'readOnlyRootFilesystem')).toBe(true)
    expect(str(field(relay, 'resources', 'limits', 'memory'))).toMatch(/^\d+Mi$/)
    expect(num(podSpec.terminationGracePeriodSeconds)).toBeGreaterThan(relayDeadlineSeconds(env))
  })

  test('the Service sends webhook traffic to the relay container port 3000 of these pods', () => {
    const service = byKind('Service')[0]
    const labels = obj(field(pod, 'metadata', 'labels'))
    expect(labels).toMatchObject(obj(field(service, 'spec', 'selector')))
    const target = field(list(field(service, 'spec', 'ports'))[0], 'targetPort')
    const port = list(relay?.ports).find(
      (p) => field(p, 'name') === target || field(p, 'containerPort') === target,
    )
    expect(field(port, 'containerPort')).toBe(3000)
  })
})
