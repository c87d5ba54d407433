import { readFileSync } from 'node:fs'
import { FORWARD_BATCH_MAX_BYTES, FORWARD_MEMORY_SHARE, FORWARD_MIN_BATCH_BYTES } from './forward-tuning.js'

const CGROUP_LIMITS = [
  '/sys/fs/cgroup/memory.max', // cgroup v2
  '/sys/fs/cgroup/memory/memory.limit_in_bytes', // cgroup v1
]

/** The container's memory limit in bytes, or undefined when there is none (or it cannot be read). */
export function containerMemoryLimit(files: readonly string[] = CGROUP_LIMITS): number | undefined {
  for (const file of files) {
    let text: string
    try {
      text = readFileSync(file, 'utf8').trim()
    } catch {
      continue
    }
    const bytes = Number(text)
    // v2 says `max`; v1 says a number near 2^63 for "no limit".
    if (Number.isSafeInteger(bytes) && bytes > 0) return bytes
    return undefined
  }
  return undefined
}

/**
 * Body bytes one forwarder may read and hold at once (its batch; the sink's copies of it come on top, see
 * docs/operations.md "Memory"). FORWARD_BATCH_MAX_BYTES, or less in a container whose memory limit would
 * not leave room for it: a 1/FORWARD_MEMORY_SHARE share of the limit, split between the forwarders.
 */
export function forwardByteBudget(forwarders: number, limit = containerMemoryLimit()): number {
  const total = limit === undefined ? FORWARD_BATCH_MAX_BYTES : Math.floor(limit / FORWARD_MEMORY_SHARE)
  const each = Math.floor(Math.min(total, FORWARD_BATCH_MAX_BYTES) / Math.max(1, forwarders))
  return Math.max(FORWARD_MIN_BATCH_BYTES, each)
}
