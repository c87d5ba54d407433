import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { parse } from 'yaml'
import { startConsumer } from '../helpers/http-consumer.js'
import { SECRETS, sign, sleep, tempDir } from '../helpers/index.js'
import { freePort, post, startRelay } from '../helpers/relay-process.js'
import { arr, field, list, obj, str } from './yaml-access.js'

const ROOT = resolve(import.meta.dirname, '../..')
const DOCKER = join(ROOT, 'docker')
const ALERTS = join(DOCKER, 'prometheus/alerts.yml')
const SHIPPED_CONFIG = join(DOCKER, 'prometheus/prometheus.yml')
const DASHBOARD = join(DOCKER, 'grafana/tylt-relay.json')

/** Debian's `prometheus` package ships both; without them nothing here can run. */
const tools = ['prometheus', 'promtool'].filter((tool) => spawnSync(tool, ['--version']).error !== undefined)
const missing = tools.length === 0 ? undefined : `${tools.join(' and ')} not installed (Debian: prometheus)`
if (missing !== undefined) console.warn(`skipped: ${missing}`)

/** What Grafana puts for `$__rate_interval`: at least four scrapes of the 1 s interval the test scrapes at. */
const RATE_INTERVAL = '1m'

interface Expression {
  /** `alert <name>` or `panel <title> <refId>`. */
  readonly name: string
  readonly expr: string
}

function alertRules(): Expression[] {
  const groups = arr(field(parse(readFileSync(ALERTS, 'utf8')), 'groups'))
  return groups.flatMap((group) =>
    arr(field(group, 'rules')).map((rule) => ({
      name: `alert ${str(field(rule, 'alert'))}`,
      expr: str(field(rule, 'expr')),
    })),
  )
}

/** Every target of every panel, Grafana's interval variables replaced as Grafana does before it queries. */
function dashboardTargets(): Expression[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8'))
  return arr(field(dashboard, 'panels'))
    .filter((panel) => obj(panel).type !== 'row')
    .flatMap((panel) =>
      arr(field(panel, 'targets')).map((target) => ({
        name: `panel ${str(field(panel, 'title'))} ${str(field(target, 'refId'))}`,
        expr: str(field(target, 'expr')).replaceAll('$__rate_interval', RATE_INTERVAL),
      })),
    )
}

/**
 * What is checked of each alert rule beyond "Prometheus evaluates it without error": the parts listed must
 * each return at least one series once callbacks flowed (each is a piece of the rule's text, so it cannot
 * drift from it), or `itself` when the test makes the condition true. Every dashboard target is checked
 * itself: the traffic below gives each of them a series. On top of this, every `tylt_relay_*` name in any
 * expression must be a series Prometheus scraped, so a misspelt name fails even inside a comparison.
 */
const RULE_CHECKS: Record<string, { readonly returns: 'itself' | readonly string[]; readonly why: string }> =
  {
    'alert TyltRelayStoreDown': {
      returns: ['tylt_relay_store_up', 'tylt_relay_webhook_requests_total'],
      why: 'the store is up, and `unavailable` needs a store that cannot write (its spelling: the documented outcomes)',
    },
    'alert TyltRelayOverloaded': {
      returns: ['tylt_relay_webhook_requests_total'],
      why: '`overloaded` needs a lagging event loop (its spelling: the documented outcomes)',
    },
    'alert TyltRelayNotReady': {
      returns: ['up{job="tylt-relay"}'],
      why: 'the scrape half only: kube_pod_container_status_ready comes from kube-state-metrics in Kubernetes, which a plain Prometheus does not scrape',
    },
    'alert TyltRelayDeliveryLagging': {
      returns: ['tylt_relay_oldest_pending_age_seconds'],
      why: 'every event is delivered at once, so nothing is 600 s old',
    },
    'alert TyltRelayForwarderStalled': {
      returns: ['tylt_relay_forwarder_up', 'time() - tylt_relay_forwarder_last_progress_timestamp_seconds'],
      why: 'the forwarder is up and moved a moment ago',
    },
    'alert TyltRelayForwardingLeaseStuck': {
      returns: [
        'max(tylt_relay_forwarding_lease_holder_silent_seconds)',
        'sum(tylt_relay_forwarding_lease_held)',
        'max(tylt_relay_oldest_pending_age_seconds)',
      ],
      why: 'the embedded store: this relay holds the lease and nothing waits',
    },
    'alert TyltRelayDeadLetters': {
      returns: ['tylt_relay_dead_letters'],
      why: 'the downstream accepts everything, so there is no dead letter',
    },
    'alert TyltRelaySignatureMismatches': { returns: 'itself', why: 'refused signatures in both rounds' },
    'alert TyltRelayQuarantined': { returns: 'itself', why: 'refused requests kept in both rounds' },
    'alert TyltRelayQuarantineUnretried': { returns: 'itself', why: 'the quarantine holds requests' },
    'alert TyltRelayQuarantineEvictedVerified': {
      returns: ['tylt_relay_quarantine_dropped_total'],
      why: "requests are evicted past the small QUARANTINE_MAX_BYTES, with cause `evicted`: `evicted_verified_source` needs a request marked as from a verified source, and the webhook path marks none (src/webhook/webhook-routes.ts); the cause's spelling: the documented values",
    },
    'alert TyltRelaySlowAcknowledgements': {
      returns: [
        'histogram_quantile(0.99, sum by (le) (rate(tylt_relay_ack_duration_seconds_bucket{outcome="accepted"}[5m])))',
      ],
      why: 'acknowledgements here take milliseconds, not 0.5 s',
    },
  }

/** The label values docs/reference.md section 7 documents, each written there as `value`. */
function documentedValues(): Set<string> {
  const section = readFileSync(join(ROOT, 'docs/reference.md'), 'utf8').split('## 7. Metrics')[1]!
  return new Set([...section.split('\n## ')[0]!.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!))
}

interface QueryAnswer {
  readonly status: string
  readonly error?: string
  readonly warnings?: string[]
  readonly data?: { readonly resultType: string; readonly result: { metric: Record<string, string> }[] }
}

/** Runs Prometheus on a loopback port with `config`, its data in a temporary folder; stopped when the test ends. */
async function startPrometheus(config: string) {
  const port = await freePort()
  const dir = tempDir('tylt-relay-prometheus-')
  const output: string[] = []
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  for (const stream of [child.stdout, child.stderr]) stream?.on('data', (chunk) => output.push(String(chunk)))
  const exited = new Promise((done) => child.once('exit', done))
  onTestFinished(async () => {
    child.kill('SIGTERM')
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(killer)
  })
  const url = `http://127.0.0.1:${port}`
  await until(
    () =>
      fetch(`${url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      ),
    () => `prometheus not ready:\n${output.join('')}`,
  )
  const api = async (path: string) => (await (await fetch(`${url}/api/v1/${path}`)).json()) as QueryAnswer
  const query = (expr: string) => api(`query?query=${encodeURIComponent(expr)}`)
  return { api, query, output }
}

/** Waits up to 30 s for `ready`; then fails with `explain()`. */
async function until(ready: () => Promise<boolean>, explain: () => string | Promise<string>) {
  const deadline = Date.now() + 30_000
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(await explain())
    await sleep(200)
  }
}

/** A callback body of about 900 bytes, so a few refused ones pass the small quarantine bound below. */
const callback = (id: string) =>
  Buffer.from(JSON.stringify({ type: 'pay-in', data: { orderId: id, note: 'x'.repeat(800) } }))

describe('the dashboard and the alert rules over a running relay', () => {
  it.skipIf(missing !== undefined)('promtool accepts the rules and the shipped config', () => {
    const rules = spawnSync('promtool', ['check', 'rules', ALERTS], { encoding: 'utf8' })
    expect({ status: rules.status, stderr: rules.stderr }).toEqual({ status: 0, stderr: '' })
    expect(rules.stdout).toContain(`SUCCESS: ${alertRules().length} rules found`)
    // The shipped config names the rules where Compose mounts them; here, where they are in the repository.
    const config = join(tempDir(), 'prometheus.yml')
    writeFileSync(config, readFileSync(SHIPPED_CONFIG, 'utf8').replace('/etc/prometheus/alerts.yml', ALERTS))
    const check = spawnSync('promtool', ['check', 'config', config], { encoding: 'utf8' })
    expect({ status: check.status, stderr: check.stderr }).toEqual({ status: 0, stderr: '' })
    expect(check.stdout).toContain('SUCCESS: 1 rule files found')
  })

  it.skipIf(missing !== undefined)(
    'Prometheus scraping a real relay: every dashboard target and every alert rule evaluates, and returns a series',
    async () => {
      const rules = alertRules()
      const targets = dashboardTargets()
      expect(rules.length).toBe(12)
      expect(targets.length).toBeGreaterThan(15)
      // Every rule says what is checked of it, and no entry is left for a rule that is gone.
      expect(Object.keys(RULE_CHECKS).sort()).toEqual(rules.map((r) => r.name).sort())
      for (const target of targets) expect(target.expr, target.name).not.toContain('$')

      const consumer = await startConsumer()
      const relay = await startRelay({
        TYLT_SECRET_CPG: SECRETS.cpg,
        FORWARD_URL: consumer.url,
        DATA_DIR: tempDir(),
        QUARANTINE_MAX_BYTES: '3000',
      })
      // The job name of the shipped config, which the rules and the dashboard use in `up{job=...}`.
      const job = str(
        field(list(field(parse(readFileSync(SHIPPED_CONFIG, 'utf8')), 'scrape_configs'))[0], 'job_name'),
      )
      const config = join(tempDir(), 'prometheus.yml')
      // JSON is YAML: one line per setting is all Prometheus needs.
      writeFileSync(
        config,
        JSON.stringify({
          global: { scrape_interval: '1s', evaluation_interval: '1s' },
          rule_files: [ALERTS],
          scrape_configs: [{ job_name: job, static_configs: [{ targets: [new URL(relay.opsUrl).host] }] }],
        }),
      )
      const check = spawnSync('promtool', ['check', 'config', config], { encoding: 'utf8' })
      expect({ status: check.status, stderr: check.stderr }).toEqual({ status: 0, stderr: '' })
      const prometheus = await startPrometheus(config)
      const series = async (expr: string) => (await prometheus.query(expr)).data?.result ?? []

      // Two rounds, each with every outcome: a counter's rate and increase need it to grow after its first
      // scrape. Accepted (and delivered), a duplicate, a refused signature (kept in quarantine), an unknown
      // service (404, kept too); past QUARANTINE_MAX_BYTES, the oldest kept are evicted.
      const round = async (n: number) => {
        const accepted = [0, 1, 2].map((i) => callback(`dash-${n}-${i}`))
        for (const body of accepted)
          expect((await post(`${relay.url}/webhooks/cpg`, body, sign(SECRETS.cpg, body))).status).toBe(200)
        const again = await post(`${relay.url}/webhooks/cpg`, accepted[0]!, sign(SECRETS.cpg, accepted[0]!))
        expect(again.status).toBe(200)
        for (const i of [0, 1, 2]) {
          const forged = callback(`dash-${n}-forged-${i}`)
          expect((await post(`${relay.url}/webhooks/cpg`, forged, sign('not-the-key', forged))).status).toBe(
            401,
          )
        }
        const unknown = callback(`dash-${n}-unknown`)
        expect((await post(`${relay.url}/webhooks/nope`, unknown, sign(SECRETS.cpg, unknown))).status).toBe(
          404,
        )
      }
      const seen = async (exprs: string[]) =>
        (await Promise.all(exprs.map(series))).every((s) => s.length > 0)
      await round(1)
      const roundOne = [
        'tylt_relay_webhook_requests_total{outcome="duplicate"}',
        'tylt_relay_events_forwarded_total{outcome="delivered"} == 3',
        'tylt_relay_quarantine_dropped_total{cause="evicted"}',
        'tylt_relay_verification_failures_total',
        'tylt_relay_quarantined_total',
      ]
      await until(
        () => seen(roundOne),
        async () => `round 1 not scraped: ${JSON.stringify(await Promise.all(roundOne.map(series)))}`,
      )
      await round(2)
      // Each accepted callback once, and nothing refused, reached the downstream.
      await until(
        async () => consumer.received.length >= 6,
        () => `delivered: ${consumer.received.length}`,
      )
      expect(consumer.bodies.map((b) => JSON.parse(b).data.orderId).sort()).toEqual(
        [1, 2].flatMap((n) => [0, 1, 2].map((i) => `dash-${n}-${i}`)),
      )

      const documented = documentedValues()
      /** What fails for one expression: an error, a warning, no series where one is due, an unknown name. */
      const failures = async ({ name, expr }: Expression): Promise<string[]> => {
        const problems: string[] = []
        const own = await prometheus.query(expr)
        if (own.status !== 'success' || own.warnings !== undefined)
          problems.push(`${name}: ${own.error ?? own.warnings?.join('; ')}`)
        const check = RULE_CHECKS[name]
        const returns = check === undefined || check.returns === 'itself' ? [expr] : check.returns
        for (const part of returns) {
          if (!expr.includes(part)) problems.push(`${name}: ${part} is not part of ${expr}`)
          else if ((await series(part)).length === 0) problems.push(`${name}: ${part} returns no series`)
        }
        for (const metric of new Set(expr.match(/\btylt_relay_[a-z0-9_]+/g) ?? [])) {
          if ((await series(`{__name__="${metric}"}`)).length === 0)
            problems.push(`${name}: ${metric} is not a scraped series`)
        }
        for (const [, label, value] of expr.matchAll(/\b(outcome|cause|reason|slot|bytes)="([^"]*)"/g)) {
          if (!documented.has(value!)) problems.push(`${name}: ${label}="${value}" is not a documented value`)
        }
        return problems
      }
      const all = [...targets, ...rules]
      let problems: string[] = []
      await until(
        async () => {
          problems = (await Promise.all(all.map(failures))).flat()
          return problems.length === 0
        },
        () => problems.join('\n'),
      )
      expect(problems).toEqual([])

      // The outcomes the test sent are the ones the dashboard shows.
      const outcomes = (
        await series(targets.find((t) => t.name === 'panel Callbacks by outcome A')!.expr)
      ).map((s) => s.metric.outcome)
      expect(outcomes.sort()).toEqual(['accepted', 'duplicate', 'invalid_signature', 'unknown_service'])

      // Prometheus itself evaluates every rule of the file without error; the ones the traffic makes true
      // fire or wait out their `for`, and none of the others is active.
      await until(
        async () => {
          const groups = obj(field(await prometheus.api('rules'), 'data')).groups
          return list(groups)
            .flatMap((g) => list(field(g, 'rules')))
            .every((r) => obj(r).lastEvaluation !== '0001-01-01T00:00:00Z')
        },
        () => 'rules not evaluated yet',
      )
      const evaluated = list(field(await prometheus.api('rules'), 'data', 'groups')).flatMap((g) =>
        list(field(g, 'rules')).map((r) => ({
          name: `alert ${str(field(r, 'name'))}`,
          health: obj(r).health,
          error: obj(r).lastError ?? '',
        })),
      )
      expect(evaluated.sort((a, b) => a.name.localeCompare(b.name))).toEqual(
        rules
          .map((r) => ({ name: r.name, health: 'ok', error: '' }))
          .sort((a, b) => a.name.localeCompare(b.name)),
      )
      const alerts = async () =>
        arr(field(await prometheus.api('alerts'), 'data', 'alerts')).map(
          (a) => `${str(field(a, 'labels', 'alertname'))} ${str(field(a, 'state'))}`,
        )
      const due = [
        'TyltRelaySignatureMismatches pending',
        'TyltRelayQuarantined firing',
        'TyltRelayQuarantineUnretried pending',
      ]
      let active: string[] = []
      await until(
        async () => {
          active = await alerts()
          return due.every((alert) => active.includes(alert))
        },
        () => `alerts: ${active.join(', ')}`,
      )
      // TyltRelaySlowAcknowledgements is left out: a loaded machine may answer the first callbacks slowly.
      const quiet = rules
        .map((r) => r.name.replace('alert ', ''))
        .filter((name) => !due.some((alert) => alert.startsWith(`${name} `)))
        .filter((name) => name !== 'TyltRelaySlowAcknowledgements')
      expect(quiet.length).toBe(8)
      expect(active.filter((alert) => quiet.includes(alert.split(' ')[0]!))).toEqual([])
      expect(prometheus.output.join('')).not.toMatch(/level=error/)
    },
    120_000,
  )
})

describe('the Compose profile monitoring', () => {
  const compose = parse(readFileSync(join(DOCKER, 'compose.yaml'), 'utf8'))
  const services = obj(field(compose, 'services'))
  const profiles = (name: string) => list(obj(services[name]).profiles).map(str)
  /** The `./source:target:ro` mounts of a service, as [source in the repository, target]. */
  const mounts = (name: string) =>
    list(obj(services[name]).volumes)
      .map(str)
      .filter((v) => v.startsWith('./'))
      .map((v) => {
        expect(v, name).toMatch(/:ro$/)
        const [source, target] = v.split(':')
        return [join(DOCKER, source!), target!] as const
      })

  it('leaves what a plain `up` starts as it was, and adds Prometheus and Grafana to the profile only', () => {
    expect(Object.keys(services).filter((name) => profiles(name).length === 0)).toEqual([
      'relay',
      'redis',
      'consumer',
    ])
    expect(Object.keys(services).filter((name) => profiles(name).includes('monitoring'))).toEqual([
      'prometheus',
      'grafana',
    ])
    expect(str(obj(services.prometheus).image)).toMatch(/^\$\{PROMETHEUS_IMAGE:-prom\/prometheus[:@]/)
    expect(str(obj(services.grafana).image)).toMatch(/^\$\{GRAFANA_IMAGE:-grafana\/grafana-oss[:@]/)
    for (const name of ['prometheus', 'grafana'])
      for (const port of list(obj(services[name]).ports)) expect(str(port), name).toMatch(/^127\.0\.0\.1:/)
  })

  it('mounts read-only the files this repository has, where the configurations name them', () => {
    const prometheus = new Map(mounts('prometheus').map(([source, target]) => [target, source]))
    expect(prometheus.get('/etc/prometheus/prometheus.yml')).toBe(SHIPPED_CONFIG)
    const shipped = parse(readFileSync(SHIPPED_CONFIG, 'utf8'))
    for (const file of arr(field(shipped, 'rule_files')).map(str)) expect(prometheus.get(file)).toBe(ALERTS)
    const targets = arr(
      field(arr(field(arr(field(shipped, 'scrape_configs'))[0], 'static_configs'))[0], 'targets'),
    )
    expect(targets).toEqual(['relay:9090'])

    const grafana = new Map(mounts('grafana').map(([source, target]) => [target, source]))
    const provisioning = grafana.get('/etc/grafana/provisioning')!
    expect(provisioning).toBe(join(DOCKER, 'grafana/provisioning'))
    const provider = arr(
      field(parse(readFileSync(join(provisioning, 'dashboards/tylt-relay.yml'), 'utf8')), 'providers'),
    )[0]
    const folder = str(field(provider, 'options', 'path'))
    expect(grafana.get(`${folder}/tylt-relay.json`)).toBe(DASHBOARD)
    // The dashboard's data source variable defaults to the provisioned Prometheus, which Compose names.
    const source = arr(
      field(parse(readFileSync(join(provisioning, 'datasources/prometheus.yml'), 'utf8')), 'datasources'),
    )[0]
    expect(Object.keys(services)).toContain(new URL(str(field(source, 'url'))).hostname)
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8'))
    const variable = arr(field(dashboard, 'templating', 'list')).find((v) => obj(v).name === 'datasource')
    expect(field(variable, 'current', 'value')).toBe(str(field(source, 'uid')))
    for (const [source] of [...mounts('prometheus'), ...mounts('grafana')])
      expect(existsSync(source), source).toBe(true)
  })
})
