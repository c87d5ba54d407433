import type { Logger } from 'pino'
import type { EventStore } from '../core/event-store.js'
import type { PlannedDownstream } from './downstream-plan.js'

/**
 * Says at start what this configuration does with the events accepted before it (docs/downstreams.md,
 * "Changing a downstream"): pending events go to the downstream their service has now, whatever it had when
 * they were accepted; stored events (accepted while their service had none) go nowhere until replayed.
 */
export async function reportBacklog(
  store: EventStore,
  plan: readonly PlannedDownstream[],
  logger: Logger,
): Promise<void> {
  const [pending, stored] = await Promise.all([store.count('pending'), store.count('stored')])
  if (pending > 0 && plan.length > 0) {
    logger.info(
      { pending, downstreams: plan.map((d) => d.target) },
      `${pending} event(s) accepted before this start are pending; each goes to the downstream its service has now`,
    )
  }
  if (stored > 0 && plan.length > 0) {
    logger.info(
      { stored },
      `${stored} event(s) accepted while their service had no downstream stay stored; "tylt-relay events replay --service NAME" sends them`,
    )
  }
}
