/** How far the wall clock may run ahead of the monotonic one before it is no longer believed (ms). */
const DRIFT_ALLOWED_MS = 60_000

/**
 * A wall clock for measuring ages that a forward jump cannot push: the wall time at creation plus the
 * monotonic time since, or the wall clock itself when it is behind that (a backward step only makes ages
 * shorter, which errs toward keeping events). A forward jump during a run counts from the next start on.
 */
export function steadyClock(
  wall: () => number = Date.now,
  monotonic: () => number = performance.now.bind(performance),
): () => number {
  const startWall = wall()
  const startMono = monotonic()
  return () => Math.min(wall(), startWall + (monotonic() - startMono) + DRIFT_ALLOWED_MS)
}
