import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks'
import type { Registry } from './prometheus.js'

/** How often the event loop delay is sampled, in milliseconds. */
export const EVENT_LOOP_RESOLUTION_MS = 20

/**
 * One event loop delay monitor for the process, however many registries report it (tests build many): the
 * event loop is the process's. Its timer is unreferenced (it never keeps the process alive); it runs while
 * at least one registry holds it.
 */
let monitor: IntervalHistogram | undefined
let holders = 0

function holdMonitor(): IntervalHistogram {
  monitor ??= monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS })
  if (holders++ === 0) monitor.enable()
  return monitor
}

function releaseMonitor(): void {
  if (holders === 0) return
  if (--holders === 0) monitor?.disable()
}

/** Whether the event loop delay monitor is running (for tests). */
export function eventLoopMonitorRunning(): boolean {
  return holders > 0
}

/**
 * The process's own metrics, all read at scrape time: CPU time, resident memory, start time, heap in use,
 * and the 99th percentile of the event loop delay since the previous scrape. Returns what stops the event
 * loop monitor again; calling it more than once does nothing more.
 */
export function registerProcessMetrics(registry: Registry, prefix: string): () => void {
  let cpuSeconds = 0
  registry.counter({
    name: `${prefix}process_cpu_seconds_total`,
    help: 'User and system CPU time of the process, in seconds',
    collect(counter) {
      const { user, system } = process.cpuUsage()
      const seconds = (user + system) / 1e6
      if (seconds <= cpuSeconds) return
      counter.inc(seconds - cpuSeconds)
      cpuSeconds = seconds
    },
  })
  registry.gauge({
    name: `${prefix}process_resident_memory_bytes`,
    help: 'Resident memory of the process, in bytes',
    collect: (gauge) => gauge.set(process.memoryUsage.rss()),
  })
  registry
    .gauge({
      name: `${prefix}process_start_time_seconds`,
      help: 'When the process started, in seconds since the Unix epoch',
    })
    .set(Math.round(performance.timeOrigin) / 1000)
  registry.gauge({
    name: `${prefix}nodejs_heap_size_used_bytes`,
    help: 'V8 heap in use, in bytes',
    // process.memoryUsage() rather than node:v8, which costs a megabyte of resident memory to load.
    collect: (gauge) => gauge.set(process.memoryUsage().heapUsed),
  })
  const delays = holdMonitor()
  let held = true
  registry.gauge({
    name: `${prefix}nodejs_eventloop_lag_p99_seconds`,
    help: `99th percentile of the event loop delay since the previous scrape, beyond the ${EVENT_LOOP_RESOLUTION_MS} ms sampling interval, in seconds`,
    collect(gauge) {
      // The monitor records the time between two turns of its timer: the interval plus the delay.
      const p99 = held && delays.count > 0 ? delays.percentile(99) : 0
      gauge.set(Math.max(0, p99 - EVENT_LOOP_RESOLUTION_MS * 1e6) / 1e9)
      if (held) delays.reset()
    },
  })
  return () => {
    if (held) releaseMonitor()
    held = false
  }
}
