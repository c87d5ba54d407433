import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { basename, dirname, join, relative, resolve } from 'node:path'
import { describe, expect, test } from 'vitest'
import { parseDuration } from '../../src/config/duration.js'
import { documents, expectValidConfig, isReferenceVariable, relayDeadlineSeconds } from './manifest-checks.js'
import { copyParts, execForm, instructions, parseDockerfile } from './parse-dockerfile.js'
import { arr, field, list, num, obj, str } from './yaml-access.js'

const ROOT = resolve(import.meta.dirname, '../..')
const DOCKER = join(ROOT, 'docker')
const KUBE = join(DOCKER, 'kubernetes')

describe('docker/compose.yaml', () => {
  const [compose] = documents(join(DOCKER, 'compose.yaml'))
  const services = obj(field(compose, 'services'))
  const relay = obj(services.relay)
  const env = Object.fromEntries(Object.entries(obj(relay.environment)).map(([k, v]) => [k, String(v)]))

  test('builds the relay from the repository Dockerfile, and the consumer with the kit from the same root', () => {
    expect(existsSync(join(resolve(DOCKER, str(field(relay, 'build', 'context'))), 'Dockerfile'))).toBe(true)
    // The repository root as the context: the consumer's image packs tylt-relay from this checkout.
    const context = resolve(DOCKER, str(field(services.consumer, 'build', 'context')))
    expect(context).toBe(ROOT)
    const consumerDockerfile = str(field(services.consumer, 'build', 'dockerfile'))
    const consumer = join(context, dirname(consumerDockerfile))
    for (const file of ['consumer.mjs', 'amqp-consumer.mjs', 'package.json', 'package-lock.json'])
      expect(existsSync(join(consumer, file)), file).toBe(true)
    const dockerfile = parseDockerfile(readFileSync(join(context, consumerDockerfile), 'utf8'))
    const [kit, runtime] = [dockerfile.stages[0]!, dockerfile.stages.at(-1)!]
    // The same base as the relay, and the versions of the lock files only.
    expect(dockerfile.args.NODE_IMAGE).toBe('node:24-bookworm-slim')
    for (const stage of dockerfile.stages) expect(stage.image).toBe('node:24-bookworm-slim')
    for (const stage of dockerfile.stages) {
      const runs = instructions(stage, 'RUN')
      expect(runs.some((run) => /^npm ci\b/.test(run))).toBe(true)
      expect(runs.join('\n')).not.toMatch(/npm install/)
    }
    expect(instructions(kit, 'RUN').join('\n')).toMatch(/\bnpm pack\b/)
    // The package unpacked into node_modules, none of the relay's dependencies with it; the examples beside it.
    const copies = instructions(runtime, 'COPY').map(copyParts)
    expect(copies).toContainEqual({
      from: kit.name,
      sources: ['/tmp/package'],
      dest: './node_modules/tylt-relay',
    })
    const copied = copies.flatMap((c) => (c.from === undefined ? c.sources : []))
    for (const file of ['package.json', 'package-lock.json', 'consumer.mjs', 'amqp-consumer.mjs'])
      expect(copied).toContain(`${relative(ROOT, consumer)}/${file}`)
    expect(execForm(instructions(runtime, 'CMD')[0] ?? '')).toEqual(['node', 'consumer.mjs'])
    // The context's .dockerignore lets in what the consumer copies.
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n')
    expect(ignore).toContain(`!${relative(ROOT, consumer)}`)
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
