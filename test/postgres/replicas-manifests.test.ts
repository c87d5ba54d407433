import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, test } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import { tempDir } from '../helpers/index.js'
import { documents } from '../ops/manifest-checks.js'
import { arr, field, list, num, obj, str } from '../ops/yaml-access.js'

const DOCKER = resolve(import.meta.dirname, '../../docker')
const VARIANT = join(DOCKER, 'kubernetes', 'replicas')

/** The relay's own validation, with each mounted file replaced by a stand-in of the right shape. */
function expectValid(env: Record<string, string>) {
  const dir = tempDir()
  const local: Record<string, string> = {}
  for (const [name, value] of Object.entries(env)) {
    if (!name.endsWith('_FILE')) {
      local[name] = value || `whsec_${'A'.repeat(44)}`
      continue
    }
    const file = join(dir, name)
    writeFileSync(
      file,
      name === 'STORE_URL_FILE' ? 'postgres://u:p@db:5432/payments\n' : `stand-in-secret-for-${name}\n`,
    )
    local[name] = file
  }
  return loadConfig(local)
}

describe('docker/kubernetes/replicas', () => {
  const files = readdirSync(VARIANT).filter((f) => f.endsWith('.yaml'))
  const manifests = files.flatMap((f) => documents(join(VARIANT, f)).map(obj))
  const byKind = (kind: string) => manifests.filter((m) => m.kind === kind)
  const deployment = byKind('Deployment')[0]
  const podSpec = obj(field(deployment, 'spec', 'template', 'spec'))
  const relay = obj(arr(podSpec.containers)[0])
  const env = Object.fromEntries(
    list(relay.env).map((e) => [
      str(field(e, 'name')),
      typeof obj(e).value === 'string' ? str(obj(e).value) : '',
    ]),
  )

  test('the kustomization lists every file', () => {
    const resources = list(byKind('Kustomization')[0]?.resources).map(str)
    for (const file of resources) expect(existsSync(join(VARIANT, file)), file).toBe(true)
    expect(resources.sort()).toEqual(files.filter((f) => f !== 'kustomization.yaml').sort())
  })

  test('runs three replicas with no volume but secrets and /tmp, rolling without downtime', () => {
    expect(num(field(deployment, 'spec', 'replicas'))).toBe(3)
    expect(field(deployment, 'spec', 'strategy', 'type')).toBe('RollingUpdate')
    expect(field(deployment, 'spec', 'strategy', 'rollingUpdate', 'maxUnavailable')).toBe(0)
    const volumes = list(podSpec.volumes).map(obj)
    expect(volumes.filter((v) => v.persistentVolumeClaim !== undefined)).toEqual([])
    expect(volumes.map((v) => Object.keys(v).find((k) => k !== 'name')).sort()).toEqual([
      'emptyDir',
      'secret',
    ])
    expect(num(field(byKind('PodDisruptionBudget')[0], 'spec', 'minAvailable'))).toBe(2)
  })

  test('takes STORE_URL as a file from the Secret, and the relay accepts the whole environment', () => {
    expect(env.STORE_URL).toBeUndefined()
    const secret = obj(
      field(
        list(podSpec.volumes)
          .map(obj)
          .find((v) => v.secret !== undefined),
        'secret',
      ),
    )
    const mount = list(relay.volumeMounts)
      .map(obj)
      .find((m) => m.name === 'tylt-secrets')
    const items = list(secret.items).map((i) => `${str(field(mount, 'mountPath'))}/${str(field(i, 'path'))}`)
    for (const name of Object.keys(env).filter((n) => n.endsWith('_FILE')))
      expect(items, name).toContain(env[name])
    expect(expectValid(env).storeUrl?.kind).toBe('postgres')
  })

  test('the Service selects these pods and sends to the webhook port', () => {
    const service = byKind('Service')[0]
    const labels = obj(field(deployment, 'spec', 'template', 'metadata', 'labels'))
    expect(labels).toMatchObject(obj(field(service, 'spec', 'selector')))
    expect(field(list(field(service, 'spec', 'ports'))[0], 'targetPort')).toBe('webhooks')
  })
})

describe('docker/compose.yaml, profile postgres', () => {
  const [compose] = documents(join(DOCKER, 'compose.yaml'))
  const services = obj(field(compose, 'services'))
  const relay = obj(services['relay-postgres'])
  const env = Object.fromEntries(Object.entries(obj(relay.environment)).map(([k, v]) => [k, String(v)]))

  test('relays without a volume on the PostgreSQL of the profile, the URL as a secret file', () => {
    expect(list(relay.profiles)).toEqual(['postgres'])
    expect(list(obj(services.postgres).profiles)).toEqual(['postgres'])
    expect(relay.volumes).toBeUndefined()
    expect(Object.keys(obj(relay.depends_on))).toContain('postgres')
    expect(env.STORE_URL_FILE).toBe('/run/secrets/tylt_store_url')
    expect(list(relay.secrets)).toContain('tylt_store_url')
    expect(Object.keys(obj(field(compose, 'secrets')))).toContain('tylt_store_url')
    expect(expectValid(env).storeUrl?.kind).toBe('postgres')
  })
})
