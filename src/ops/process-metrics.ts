import { collectDefaultMetrics, Registry } from 'prom-client'

/** Every metric name starts with it, the process's included. */
export const METRICS_PREFIX = 'tylt_relay_'

/**
 * Left out of prom-client's defaults: the handle and request counts read undocumented Node functions
 * (`process._getActiveHandles`, which lists every socket at each scrape); `nodejs_active_resources` says
 * the same through a public one. Gauges named `_total` are what `promtool check metrics` refuses.
 */
const LEFT_OUT = (name: string, type: string) =>
  /^nodejs_active_(handles|requests)/.test(name) || (type !== 'counter' && name.endsWith('_total'))

let registry: Registry | undefined

/**
 * Node's process metrics (CPU, memory, heap, event loop delay, GC), collected once per process however many
 * relays it builds (tests build many): the figures are the process's, and prom-client starts an event loop
 * delay monitor for every registry it collects them into, which it never stops.
 */
export function processRegistry(): Registry {
  if (registry === undefined) {
    registry = new Registry()
    collectDefaultMetrics({ register: registry, prefix: METRICS_PREFIX })
    for (const { name, type } of registry.getMetricsAsArray()) {
      if (LEFT_OUT(name.slice(METRICS_PREFIX.length), String(type))) registry.removeSingleMetric(name)
    }
  }
  return registry
}
