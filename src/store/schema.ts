/** Schema of the embedded store; `user_version` says which migrations ran. */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE events (
     seq INTEGER PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     service TEXT NOT NULL,
     accepted_at INTEGER NOT NULL,
     signature TEXT NOT NULL,
     order_id TEXT,
     merchant_order_id TEXT,
     status TEXT,
     body BLOB NOT NULL,
     state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
     attempts INTEGER NOT NULL DEFAULT 0,
     last_error TEXT,
     last_attempt_at INTEGER,
     delivered_at INTEGER,
     retry_since INTEGER NOT NULL
   );
   CREATE INDEX events_pending ON events (seq) WHERE state = 'pending';
   CREATE INDEX events_state ON events (state, seq);
   CREATE TABLE probe (id INTEGER PRIMARY KEY CHECK (id = 1), at INTEGER NOT NULL);`,
  // Every index is work on the webhook path, which only ever inserts pending events: keep the ones it must
  // touch to the two it needs (id for deduplication, pending for the forwarder), and index the other states
  // with partial indexes that only a state change touches.
  `DROP INDEX events_state;
   CREATE INDEX events_dead ON events (seq) WHERE state = 'dead';
   CREATE INDEX events_delivered ON events (accepted_at) WHERE state = 'delivered';`,
  // What the forwarded metadata gains (product, finality, recovery from quarantine), the downstream that
  // confirmed each event, and the history of attempts that did not deliver (the newest ATTEMPTS_KEPT each).
  `ALTER TABLE events ADD COLUMN product TEXT NOT NULL DEFAULT 'unknown';
   ALTER TABLE events ADD COLUMN final TEXT NOT NULL DEFAULT 'unknown';
   ALTER TABLE events ADD COLUMN recovered TEXT;
   ALTER TABLE events ADD COLUMN delivered_to TEXT;
   CREATE TABLE attempts (
     event_seq INTEGER NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
     at INTEGER NOT NULL,
     downstream TEXT NOT NULL,
     outcome TEXT NOT NULL CHECK (outcome IN ('failed', 'refused', 'dead')),
     error TEXT NOT NULL
   );
   CREATE INDEX attempts_event ON attempts (event_seq, at);`,
  // The `stored` state: events accepted while their service had no downstream. SQLite cannot change a CHECK
  // constraint in place, so the table is rebuilt (https://www.sqlite.org/lang_altertable.html#otheralter);
  // every row keeps its state, so an event pending before this version is still pending after it.
  `CREATE TABLE events_next (
     seq INTEGER PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     service TEXT NOT NULL,
     accepted_at INTEGER NOT NULL,
     signature TEXT NOT NULL,
     order_id TEXT,
     merchant_order_id TEXT,
     status TEXT,
     body BLOB NOT NULL,
     state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead', 'stored')),
     attempts INTEGER NOT NULL DEFAULT 0,
     last_error TEXT,
     last_attempt_at INTEGER,
     delivered_at INTEGER,
     retry_since INTEGER NOT NULL,
     product TEXT NOT NULL DEFAULT 'unknown',
     final TEXT NOT NULL DEFAULT 'unknown',
     recovered TEXT,
     delivered_to TEXT
   );
   INSERT INTO events_next SELECT seq, id, service, accepted_at, signature, order_id, merchant_order_id, status,
     body, state, attempts, last_error, last_attempt_at, delivered_at, retry_since, product, final, recovered,
     delivered_to FROM events;
   DROP TABLE events;
   ALTER TABLE events_next RENAME TO events;
   CREATE INDEX events_pending ON events (seq) WHERE state = 'pending';
   CREATE INDEX events_dead ON events (seq) WHERE state = 'dead';
   CREATE INDEX events_delivered ON events (accepted_at) WHERE state = 'delivered';
   CREATE INDEX events_stored ON events (seq) WHERE state = 'stored';`,
  // Every attempt, successful ones included, with its duration and the downstream's answer. The table is
  // rebuilt for its CHECK, as above; rowids are kept, so the kept history keeps its order.
  `CREATE TABLE attempts_next (
     event_seq INTEGER NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
     at INTEGER NOT NULL,
     downstream TEXT NOT NULL,
     outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'failed', 'refused', 'dead')),
     error TEXT,
     duration_ms INTEGER,
     status INTEGER,
     answer TEXT
   );
   INSERT INTO attempts_next (rowid, event_seq, at, downstream, outcome, error)
     SELECT rowid, event_seq, at, downstream, outcome, error FROM attempts;
   DROP TABLE attempts;
   ALTER TABLE attempts_next RENAME TO attempts;
   CREATE INDEX attempts_event ON attempts (event_seq, at);`,
  // The deadline the body gave, read on acceptance with the other metadata: the order ledger folds events
  // without reading their bodies again. Events stored before this version have none.
  `ALTER TABLE events ADD COLUMN deadline INTEGER;`,
]

export const ATTEMPT_COLUMNS = `at, downstream, outcome, error, duration_ms AS durationMs, status, answer`

export const EVENT_COLUMNS = `seq, id, service, accepted_at AS acceptedAt, signature, order_id AS orderId,
  merchant_order_id AS merchantOrderId, status, body, state, attempts, last_error AS lastError,
  last_attempt_at AS lastAttemptAt, delivered_at AS deliveredAt, retry_since AS retrySince, product, final,
  recovered, delivered_to AS deliveredTo, deadline`
