-- Unique keys compare bytes: nango.raw.unique_key and the mapped tables'
-- _nango_unique_key have collation "C", so their unique indexes do not
-- pay for the database's collation.  Keys that linguistic collations
-- order or fold differently stay distinct, are found again on the next
-- run, and sort by bytes.  A sync that starts empty skips the lookups of
-- keys it has not written yet; a key repeated on a later page is still
-- found (its last version wins) in nango.raw and in the mapped table.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS nango CASCADE;
RESET client_min_messages;
CREATE EXTENSION nango;
SET nango.log_level = warning;
\i test/sql/engine_helpers.sql
CREATE FUNCTION run_counts(sid bigint, OUT status text, OUT fetched bigint, OUT added bigint,
  OUT updated bigint, OUT unchanged bigint)
LANGUAGE plpgsql SET client_min_messages = error AS $$
DECLARE jid bigint;
BEGIN
  jid := nango.run_sync(sid);
  SELECT j.status, j.fetched_count, j.added_count, j.updated_count, j.unchanged_count
    INTO status, fetched, added, updated, unchanged FROM nango.jobs j WHERE j.id = jid;
END $$;
-- the collation of the key columns
SELECT a.attrelid::regclass AS tbl, a.attname, c.collname
  FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation
 WHERE a.attrelid = 'nango.raw'::regclass AND a.attname = 'unique_key';

-- 30 keys over 8 pages: all added, then all unchanged
SELECT add_paused(mock('/keys/items?n=30&per=4'), '{
  "response_path": "data", "unique_key": "id", "mapped_table": "keys_a",
  "paging_cursor_request_path": "cursor", "paging_cursor_metadata_response_path": "next"
}') AS a \gset
SELECT * FROM run_counts(:a);
SELECT * FROM run_counts(:a);
SELECT a.attname, c.collname
  FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation
 WHERE a.attrelid = 'nango.keys_a'::regclass AND a.attname = '_nango_unique_key';
-- byte order, distinct precomposed and decomposed forms
SELECT string_agg(unique_key, '|' ORDER BY unique_key) AS raw_keys
  FROM nango.raw WHERE sync_id = :a;
SELECT string_agg(_nango_unique_key, '|' ORDER BY _nango_unique_key) AS mapped_keys,
       count(*) AS mapped_rows
  FROM nango.keys_a;
-- a lookup with a value of the database's collation finds the row
SELECT count(*) AS found FROM nango.raw
 WHERE sync_id = :a AND unique_key = ('e' || U&'\0301' || '0')::text COLLATE "default";
-- changed values: every key updated in place
SELECT nango.update_sync(:a, jsonb_build_object('query_params', '{"v": "b"}'::jsonb));
SELECT * FROM run_counts(:a);
SELECT count(*) FILTER (WHERE data->>'v' = 'b') AS raw_b, count(*) AS raw_rows
  FROM nango.raw WHERE sync_id = :a;
SELECT count(*) FILTER (WHERE v = 'b') AS mapped_b, count(*) AS mapped_rows FROM nango.keys_a;

-- a fresh sync whose last page repeats the first key with a new value:
-- one row per key, the last version stored in both tables
SELECT add_paused(mock('/keys/items?n=10&per=4&repeat=1'), '{
  "response_path": "data", "unique_key": "id", "mapped_table": "keys_b",
  "paging_cursor_request_path": "cursor", "paging_cursor_metadata_response_path": "next"
}') AS b \gset
SELECT * FROM run_counts(:b);
SELECT unique_key, data->>'v' AS v FROM nango.raw WHERE sync_id = :b AND unique_key = 'a0';
SELECT _nango_unique_key, v FROM nango.keys_b WHERE _nango_unique_key = 'a0';
SELECT count(*) AS raw_rows FROM nango.raw WHERE sync_id = :b;
SELECT count(*) AS mapped_rows FROM nango.keys_b;
-- the same sync again: the stored version differs from the first
-- occurrence, so the key counts as updated once; the others are unchanged
SELECT * FROM run_counts(:b);

-- a sync whose mapped table already holds rows of another sync: both
-- syncs' rows stay apart
SELECT add_paused(mock('/keys/items?n=6&per=4'), '{
  "response_path": "data", "unique_key": "id", "mapped_table": "keys_b",
  "paging_cursor_request_path": "cursor", "paging_cursor_metadata_response_path": "next"
}') AS c \gset
SELECT * FROM run_counts(:c);
SELECT _nango_sync_id = :b AS first_sync, count(*) FROM nango.keys_b GROUP BY 1 ORDER BY 1;

-- mapped tables outlive DROP EXTENSION: remove them with their syncs
SELECT count(nango.delete_sync(id, true)) FROM (SELECT id FROM nango.syncs ORDER BY id) s;
SELECT to_regclass('nango.keys_a') AS keys_a, to_regclass('nango.keys_b') AS keys_b;
DROP FUNCTION run_counts(bigint);
DROP FUNCTION sync_once(text, jsonb);
DROP FUNCTION run_quiet(bigint);
DROP FUNCTION mock_requests(text, text);
DROP FUNCTION unport(text);
DROP FUNCTION mock_get(text);
DROP FUNCTION mock(text);
DROP FUNCTION add_paused(text, jsonb);
