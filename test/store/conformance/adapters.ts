import type { HasDownstream } from '../../../src/core/event.js'
import type { EventStore } from '../../../src/core/event-store.js'
import { GroupCommitStore } from '../../../src/store/group-commit-store.js'
import { openPostgresStore } from '../../../src/store/postgres/open-postgres.js'
import { tempDir } from '../../helpers/index.js'
import { testSchema } from '../../postgres/postgres-helper.js'

/** One way to open a fresh, empty store; the conformance suite runs once per adapter. */
export interface Adapter {
  readonly name: string
  open(hasDownstream?: HasDownstream): Promise<EventStore>
  /** Whether a re-send of a dead letter revives it (pending again, append answers true). */
  readonly revivesDeadLetters: boolean
}

export const ADAPTERS: readonly Adapter[] = [
  // The embedded store revives dead letters once its adapter does (the same rule as PostgreSQL's).
  {
    name: 'SQLite (GroupCommitStore)',
    open: async (hasDownstream) => new GroupCommitStore(tempDir(), { hasDownstream }),
    revivesDeadLetters: true,
  },
  {
    name: 'PostgreSQL',
    open: async (hasDownstream) => openPostgresStore((await testSchema()).storeUrl, { hasDownstream }),
    revivesDeadLetters: true,
  },
]
