import type { EventStore, ListQuery } from '../core/event-store.js'

/** Events read, and ids queued, per round: a large set is walked in pages, never held in one query. */
const PAGE = 500

/** The ids of the dead letters matching `query` (its state, limit and cursor are set here). */
export async function deadLetterIds(store: EventStore, query: ListQuery): Promise<string[]> {
  const ids: string[] = []
  let beforeSeq: number | undefined
  for (;;) {
    const page = await store.list({ ...query, state: 'dead', limit: PAGE, beforeSeq })
    ids.push(...page.map((e) => e.id))
    if (page.length < PAGE) return ids
    beforeSeq = page.at(-1)!.seq
  }
}

/**
 * Queues the dead letters matching `query` for delivery again; returns how many. Every filter narrows, so
 * the set is exactly what the events table lists for the same filters with the state `dead`.
 */
export async function replayDeadLetters(store: EventStore, query: ListQuery, now: number): Promise<number> {
  const ids = await deadLetterIds(store, query)
  let queued = 0
  for (let i = 0; i < ids.length; i += PAGE) {
    queued += (await store.replay(ids.slice(i, i + PAGE), now)).queued
  }
  return queued
}
