/**
 * A small Prometheus client: counters, gauges and histograms on a registry that writes the text exposition
 * format 0.0.4. Label values are positional and each label set's child is cached, so `labels(...)` on the
 * webhook path is a Map lookup per label and `inc()` an addition; callers may also keep the child.
 * Label sets are never removed: their number is bounded by the configuration, never by a request.
 */

/** The content type of the text exposition format. */
export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

export type MetricType = 'counter' | 'gauge' | 'histogram'

/** One value per label name, in the order of `labelNames`. */
export type LabelValues<N extends readonly string[]> = { readonly [K in keyof N]: string }
/** The same values by name. */
export type LabelSet<N extends readonly string[]> = { readonly [K in N[number]]: string }

/** One sample, as `get()` reports it; `metricName` names a histogram's `_bucket`, `_sum` or `_count`. */
export interface MetricValue {
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
  readonly metricName?: string
}

export interface MetricSnapshot {
  readonly name: string
  readonly help: string
  readonly type: MetricType
  readonly values: readonly MetricValue[]
}

export interface MetricConfig<N extends readonly string[], M> {
  readonly name: string
  readonly help: string
  readonly labelNames?: N
  /** Run before each scrape (and each `get()`), to set values read at scrape time; awaited. */
  readonly collect?: (metric: M) => void | Promise<void>
}

export interface HistogramConfig<N extends readonly string[]> extends MetricConfig<N, Histogram<N>> {
  /** Upper bounds, increasing; `+Inf` is always added. */
  readonly buckets: readonly number[]
}

/** What a registry holds: a metric that can collect its values and write its samples. */
export abstract class Metric<N extends readonly string[] = readonly string[], C extends Child = Child> {
  abstract readonly type: MetricType
  readonly name: string
  readonly help: string
  readonly labelNames: N
  readonly #collect: ((metric: never) => void | Promise<void>) | undefined
  /** Children by their first label value, then the next, ...; the last level holds the child. */
  readonly #tree = new Map<string, unknown>()
  readonly #children: C[] = []
  #unlabelled: C | undefined

  constructor(config: MetricConfig<N, never>, reserved: readonly string[] = []) {
    if (!METRIC_NAME.test(config.name)) throw new TypeError(`invalid metric name: ${config.name}`)
    const labelNames = config.labelNames ?? ([] as readonly string[] as N)
    for (const [i, label] of labelNames.entries()) {
      if (!LABEL_NAME.test(label) || label.startsWith('__') || reserved.includes(label)) {
        throw new TypeError(`invalid label name for ${config.name}: ${label}`)
      }
      if (labelNames.indexOf(label) !== i)
        throw new TypeError(`duplicate label name for ${config.name}: ${label}`)
    }
    this.name = config.name
    this.help = config.help
    this.labelNames = Object.freeze([...labelNames]) as unknown as N
    this.#collect = config.collect
  }

  /** The child of a metric without labels. */
  protected get unlabelled(): C {
    if (this.#unlabelled === undefined) throw new TypeError(`${this.name} has labels: call labels(...) first`)
    return this.#unlabelled
  }

  /**
   * Called at the end of a subclass's constructor: a metric without labels has its one child from the start,
   * so that it is written (as 0) before its first use.
   */
  protected ready(): void {
    if (this.labelNames.length === 0) this.#unlabelled = this.#add([])
  }

  /** The child for one label set, by position: `labels('cpg', 'accepted')`. */
  labels(...values: LabelValues<N>): C
  /** The child for one label set, by name: `labels({ service: 'cpg', outcome: 'accepted' })`. */
  labels(values: LabelSet<N>): C
  labels(...args: readonly unknown[]): C {
    const first = args[0]
    if (typeof first === 'object' && first !== null && args.length === 1) return this.#byName(first)
    const names = this.labelNames
    const n = names.length
    if (args.length !== n || n === 0) {
      throw new TypeError(`${this.name} takes ${n} label values (${names.join(', ')}), got ${args.length}`)
    }
    let level = this.#tree
    for (let i = 0; i < n - 1; i++) {
      let next = level.get(args[i] as string) as Map<string, unknown> | undefined
      if (next === undefined) {
        next = new Map()
        level.set(this.#checked(args[i]), next)
      }
      level = next
    }
    const last = args[n - 1] as string
    let child = level.get(last) as C | undefined
    if (child === undefined) {
      child = this.#add(args.map((v) => this.#checked(v)))
      level.set(last, child)
    }
    return child
  }

  /** Runs the collect hook, then reports every sample with its labels. */
  async get(): Promise<MetricSnapshot> {
    await this.collect()
    const values: MetricValue[] = []
    for (const child of this.#children) {
      const labels: Record<string, string> = {}
      for (const [i, name] of this.labelNames.entries()) labels[name] = child.labelValues[i] as string
      values.push(...this.snapshot(child, labels))
    }
    return { name: this.name, help: this.help, type: this.type, values }
  }

  /** Runs the collect hook, if any. */
  collect(): void | Promise<void> {
    return this.#collect?.(this as never)
  }

  /** `# HELP`, `# TYPE` and the samples, each line ending in a newline. */
  write(): string {
    let text = `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n`
    for (const child of this.#children) text += this.samples(child)
    return text
  }

  protected abstract create(labelValues: readonly string[], labelText: string): C
  protected abstract samples(child: C): string
  protected abstract snapshot(child: C, labels: Record<string, string>): MetricValue[]

  #add(values: readonly string[]): C {
    const text = values.map((v, i) => `${this.labelNames[i]}="${escapeLabelValue(v)}"`).join(',')
    const child = this.create(Object.freeze(values), text)
    this.#children.push(child)
    return child
  }

  #byName(set: object): C {
    const given = set as Record<string, unknown>
    for (const key of Object.keys(given)) {
      if (!this.labelNames.includes(key)) throw new TypeError(`${this.name} has no label ${key}`)
    }
    const values = this.labelNames.map((name) => {
      if (!(name in given)) throw new TypeError(`${this.name}: label ${name} missing`)
      return given[name]
    })
    return (this.labels as (...v: unknown[]) => C)(...values)
  }

  #checked(value: unknown): string {
    if (typeof value !== 'string')
      throw new TypeError(`${this.name}: label values are strings, got ${typeof value}`)
    return value
  }
}

/** A label set's state; what `labels(...)` returns. */
export abstract class Child {
  constructor(
    readonly labelValues: readonly string[],
    /** `name="value",...`, escaped, without braces; empty without labels. */
    readonly labelText: string,
  ) {}
}

export class CounterChild extends Child {
  #value = 0

  get value(): number {
    return this.#value
  }

  /** Adds `n` (default 1); a counter never decreases. */
  inc(n = 1): void {
    if (!(n >= 0)) throw new RangeError(`a counter only increases; cannot add ${n}`)
    this.#value += n
  }
}

/** A metric whose every label set is one value, written as one sample: counters and gauges. */
abstract class SingleValueMetric<
  N extends readonly string[],
  C extends Child & { readonly value: number },
> extends Metric<N, C> {
  protected samples(child: C): string {
    return sampleLine(this.name, child.labelText, child.value)
  }

  protected snapshot(child: C, labels: Record<string, string>): MetricValue[] {
    return [{ labels, value: child.value }]
  }
}

export class Counter<N extends readonly string[] = readonly []> extends SingleValueMetric<N, CounterChild> {
  readonly type = 'counter'

  constructor(config: MetricConfig<N, Counter<N>>) {
    super(config as MetricConfig<N, never>)
    this.ready()
  }

  /** For a counter without labels. */
  inc(n = 1): void {
    this.unlabelled.inc(n)
  }

  protected create(values: readonly string[], text: string): CounterChild {
    return new CounterChild(values, text)
  }
}

export class GaugeChild extends Child {
  value = 0

  set(value: number): void {
    this.value = value
  }

  inc(n = 1): void {
    this.value += n
  }

  dec(n = 1): void {
    this.value -= n
  }
}

export class Gauge<N extends readonly string[] = readonly []> extends SingleValueMetric<N, GaugeChild> {
  readonly type = 'gauge'

  constructor(config: MetricConfig<N, Gauge<N>>) {
    super(config as MetricConfig<N, never>)
    this.ready()
  }

  /** For a gauge without labels. */
  set(value: number): void {
    this.unlabelled.set(value)
  }

  inc(n = 1): void {
    this.unlabelled.inc(n)
  }

  dec(n = 1): void {
    this.unlabelled.dec(n)
  }

  protected create(values: readonly string[], text: string): GaugeChild {
    return new GaugeChild(values, text)
  }
}

export class HistogramChild extends Child {
  /** Observations per bucket, not cumulative; the last one is `+Inf`. */
  readonly counts: Float64Array
  sum = 0
  count = 0

  constructor(
    labelValues: readonly string[],
    labelText: string,
    readonly bounds: readonly number[],
  ) {
    super(labelValues, labelText)
    this.counts = new Float64Array(bounds.length + 1)
  }

  observe(value: number): void {
    if (Number.isNaN(value)) throw new RangeError('cannot observe NaN')
    const bounds = this.bounds
    let i = 0
    while (i < bounds.length && value > (bounds[i] as number)) i++
    this.counts[i]!++
    this.sum += value
    this.count++
  }

  /** Starts a clock; calling what it returns observes the seconds since, and returns them. */
  startTimer(): () => number {
    const start = performance.now()
    return () => {
      const seconds = (performance.now() - start) / 1000
      this.observe(seconds)
      return seconds
    }
  }
}

export class Histogram<N extends readonly string[] = readonly []> extends Metric<N, HistogramChild> {
  readonly type = 'histogram'
  readonly buckets: readonly number[]
  readonly #le: readonly string[]

  constructor(config: HistogramConfig<N>) {
    super(config as MetricConfig<N, never>, ['le'])
    const buckets = config.buckets.filter((b) => b !== Number.POSITIVE_INFINITY)
    for (const [i, bound] of buckets.entries()) {
      if (!Number.isFinite(bound) || (i > 0 && bound <= (buckets[i - 1] as number))) {
        throw new TypeError(`${config.name}: buckets must be finite and increasing`)
      }
    }
    this.buckets = Object.freeze(buckets)
    this.#le = [...buckets.map(formatValue), '+Inf'].map((le) => `le="${le}"`)
    this.ready()
  }

  /** For a histogram without labels. */
  observe(value: number): void {
    this.unlabelled.observe(value)
  }

  startTimer(): () => number {
    return this.unlabelled.startTimer()
  }

  protected create(values: readonly string[], text: string): HistogramChild {
    return new HistogramChild(values, text, this.buckets)
  }

  protected samples(child: HistogramChild): string {
    const { name } = this
    const sep = child.labelText === '' ? '' : ','
    let text = ''
    let cumulative = 0
    for (const [i, le] of this.#le.entries()) {
      cumulative += child.counts[i] ?? 0
      text += `${name}_bucket{${child.labelText}${sep}${le}} ${formatValue(cumulative)}\n`
    }
    return (
      text +
      sampleLine(`${name}_sum`, child.labelText, child.sum) +
      sampleLine(`${name}_count`, child.labelText, child.count)
    )
  }

  protected snapshot(child: HistogramChild, labels: Record<string, string>): MetricValue[] {
    const values: MetricValue[] = []
    let cumulative = 0
    for (const [i, bound] of [...this.buckets, Number.POSITIVE_INFINITY].entries()) {
      cumulative += child.counts[i] ?? 0
      const le = bound === Number.POSITIVE_INFINITY ? '+Inf' : formatValue(bound)
      values.push({ labels: { ...labels, le }, value: cumulative, metricName: `${this.name}_bucket` })
    }
    values.push({ labels, value: child.sum, metricName: `${this.name}_sum` })
    values.push({ labels, value: child.count, metricName: `${this.name}_count` })
    return values
  }
}

/** Metrics by name, written in the order they were registered. */
export class Registry {
  readonly contentType = CONTENT_TYPE
  readonly #metrics = new Map<string, Metric>()

  register<M extends Metric<readonly string[], Child>>(metric: M): M {
    if (this.#metrics.has(metric.name)) throw new Error(`metric ${metric.name} is already registered`)
    this.#metrics.set(metric.name, metric as unknown as Metric)
    return metric
  }

  counter<const N extends readonly string[] = readonly []>(config: MetricConfig<N, Counter<N>>): Counter<N> {
    return this.register(new Counter(config))
  }

  gauge<const N extends readonly string[] = readonly []>(config: MetricConfig<N, Gauge<N>>): Gauge<N> {
    return this.register(new Gauge(config))
  }

  histogram<const N extends readonly string[] = readonly []>(config: HistogramConfig<N>): Histogram<N> {
    return this.register(new Histogram(config))
  }

  getSingleMetric(name: string): Metric | undefined {
    return this.#metrics.get(name)
  }

  /** Every metric in the text exposition format, after running (and awaiting) every collect hook. */
  async metrics(): Promise<string> {
    const metrics = [...this.#metrics.values()]
    await Promise.all(metrics.map((m) => m.collect()))
    let text = ''
    for (const metric of metrics) text += metric.write()
    return text
  }
}

function sampleLine(name: string, labelText: string, value: number): string {
  return labelText === ''
    ? `${name} ${formatValue(value)}\n`
    : `${name}{${labelText}} ${formatValue(value)}\n`
}

/** A sample value or bucket bound: Go's float syntax for the infinities and NaN. */
export function formatValue(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return '+Inf'
  if (value === Number.NEGATIVE_INFINITY) return '-Inf'
  return Number.isNaN(value) ? 'NaN' : String(value)
}

export function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value)
    ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
    : value
}

export function escapeHelp(help: string): string {
  return /[\\\n]/.test(help) ? help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n') : help
}
