/** The forwarder's tuning: batch sizes, the drain at a stop, when a failing store stops the relay. */

/**
 * Body bytes the forwarder reads and holds in one batch, so memory follows bytes, not the event count. A
 * batch costs a few times its bytes in resident memory while the sink copies it (docs/operations.md,
 * "Memory"); 8 MiB keeps a drain of the largest bodies well inside a 256 MiB container.
 */
export const FORWARD_BATCH_MAX_BYTES = 8 * 1024 * 1024

/**
 * In a container with a memory limit, the forwarders' batches together hold at most 1/32 of it (8 MiB of
 * 256 MiB): a batch is copied by the sink while it is sent, and freed bodies wait for the collector, so
 * the resident cost of a batch is a few times its bytes. Never below 1 MiB per forwarder.
 */
export const FORWARD_MEMORY_SHARE = 32

export const FORWARD_MIN_BATCH_BYTES = 1024 * 1024

/**
 * When a forwarder that cannot use its store stops the relay (docs/operations.md, "Readiness"). A store
 * that fails every read and write for 15 s in a row (locked past its busy timeout, a full disk) makes
 * `/readyz` answer 503; for 60 s, the relay exits 1 so that its supervisor restarts it. A downstream outage
 * alone never does either: the events wait durably for it.
 */
export const FORWARDER_STORE_LIMITS = {
  notReadyAfterMs: 15_000,
  exitAfterMs: 60_000,
  /** Retries of a failing store operation back off up to this. */
  backoffMaxMs: 5_000,
} as const

/**
 * A stop drains only while the downstream makes progress: after 2 s without a delivery the drain ends (the
 * events are durable; waiting would only delay the stop). While draining, batches are small so that
 * progress shows often.
 */
export const DRAIN = { stallMs: 2_000, batchSize: 100 } as const
