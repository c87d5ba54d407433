/**
 * The order ledger's tables, beside the events in either store, under a version of their own (the event
 * store's migrations do not know them). Times are milliseconds since the epoch.
 */
export const LEDGER_MIGRATIONS = (table: (name: string) => string): readonly string[] => [
  `CREATE TABLE ${table('orders')} (
     service text NOT NULL,
     product text NOT NULL,
     order_key text NOT NULL,
     order_id text,
     merchant_order_id text,
     status text,
     final text NOT NULL,
     source text NOT NULL CHECK (source IN ('callback', 'reconcile', 'manual')),
     first_seen bigint NOT NULL,
     last_seen bigint NOT NULL,
     deadline bigint NOT NULL,
     next_check bigint,
     checks integer NOT NULL DEFAULT 0,
     last_result text,
     abandoned_at bigint,
     PRIMARY KEY (service, product, order_key)
   );
   CREATE INDEX ${table('orders_due')} ON ${table('orders')} (next_check)
     WHERE next_check IS NOT NULL AND abandoned_at IS NULL;
   CREATE INDEX ${table('orders_merchant')} ON ${table('orders')} (merchant_order_id);
   CREATE INDEX ${table('orders_id')} ON ${table('orders')} (order_id);
   CREATE TABLE ${table('ledger_state')} (
     id integer PRIMARY KEY CHECK (id = 1),
     watermark bigint NOT NULL,
     lease_holder text,
     lease_until bigint NOT NULL DEFAULT 0
   );
   INSERT INTO ${table('ledger_state')} (id, watermark) VALUES (1, 0);`,
]

export const ORDER_COLUMNS = `service, product, order_key AS "orderKey", order_id AS "orderId",
  merchant_order_id AS "merchantOrderId", status, final, source, first_seen AS "firstSeen",
  last_seen AS "lastSeen", deadline, next_check AS "nextCheck", checks, last_result AS "lastResult",
  abandoned_at AS "abandonedAt"`

/** Events read per catch-up step: small transactions, so the webhook path never waits long for the lock. */
export const CATCH_UP_BATCH = 100
