import { QUARANTINE } from '../../constants.js'

/**
 * The quarantine's accounting, as a migration: each request's bytes as `requestBytes` counts them, whether it
 * came from a verified source and is reserved, and running totals per source address and per class kept by
 * a statement trigger, so that bounding the quarantine reads a few index entries instead of every row. Rows
 * kept before this migration are counted with their text lengths (as `requestBytes` does) and not reserved.
 */
export const QUARANTINE_SOURCES = `
  ALTER TABLE tylt_quarantine
    ADD COLUMN from_verified_source boolean NOT NULL DEFAULT false,
    ADD COLUMN reserved boolean NOT NULL DEFAULT false,
    ADD COLUMN bytes bigint;
  UPDATE tylt_quarantine SET bytes = ${QUARANTINE.overheadBytes} + octet_length(body) + octet_length(path)
    + octet_length(source_address) + coalesce(octet_length(service), 0) + coalesce(octet_length(signature), 0)
    + coalesce(octet_length(content_type), 0) + coalesce(octet_length(user_agent), 0);
  ALTER TABLE tylt_quarantine ALTER COLUMN bytes SET NOT NULL;
  CREATE INDEX tylt_quarantine_source ON tylt_quarantine (reserved, source_address, received_at, id);
  CREATE TABLE tylt_quarantine_sources (
    reserved boolean NOT NULL,
    source_address text NOT NULL,
    count bigint NOT NULL,
    bytes bigint NOT NULL,
    PRIMARY KEY (reserved, source_address)
  );
  CREATE INDEX tylt_quarantine_sources_bytes ON tylt_quarantine_sources (reserved, bytes DESC);
  INSERT INTO tylt_quarantine_sources
    SELECT reserved, source_address, count(*), sum(bytes) FROM tylt_quarantine GROUP BY 1, 2;
  CREATE TABLE tylt_quarantine_totals (
    reserved boolean PRIMARY KEY,
    count bigint NOT NULL,
    bytes bigint NOT NULL
  );
  INSERT INTO tylt_quarantine_totals
    SELECT r, count(q.id), coalesce(sum(q.bytes), 0)
    FROM (VALUES (false), (true)) AS classes (r) LEFT JOIN tylt_quarantine q ON q.reserved = r GROUP BY r;
  CREATE FUNCTION tylt_quarantine_count() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE
    sign int := CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END;
  BEGIN
    INSERT INTO tylt_quarantine_sources AS s (reserved, source_address, count, bytes)
      SELECT reserved, source_address, sign * count(*), sign * sum(bytes) FROM changed GROUP BY 1, 2
      ON CONFLICT (reserved, source_address)
      DO UPDATE SET count = s.count + excluded.count, bytes = s.bytes + excluded.bytes;
    DELETE FROM tylt_quarantine_sources
      WHERE count = 0 AND (reserved, source_address) IN (SELECT reserved, source_address FROM changed);
    UPDATE tylt_quarantine_totals t SET count = t.count + c.count, bytes = t.bytes + c.bytes
      FROM (SELECT reserved, sign * count(*) AS count, sign * sum(bytes) AS bytes FROM changed GROUP BY 1) AS c
      WHERE t.reserved = c.reserved;
    RETURN NULL;
  END $$;
  CREATE TRIGGER tylt_quarantine_added AFTER INSERT ON tylt_quarantine
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tylt_quarantine_count();
  CREATE TRIGGER tylt_quarantine_removed AFTER DELETE ON tylt_quarantine
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tylt_quarantine_count();`
