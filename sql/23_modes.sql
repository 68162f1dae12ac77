-- Sync modes run by run (the original product's /test fixture), delete
-- modes, and incremental sync.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS nango CASCADE;
RESET client_min_messages;
CREATE EXTENSION nango;
SET nango.log_level = warning;
\i test/sql/engine_helpers.sql
-- one run of a sync: its job's counts (quietly)
CREATE FUNCTION run_counts(sid bigint, OUT status text, OUT fetched bigint, OUT added bigint,
  OUT updated bigint, OUT deleted bigint, OUT unchanged bigint)
LANGUAGE plpgsql SET client_min_messages = error AS $$
DECLARE jid bigint;
BEGIN
  jid := nango.run_sync(sid);
  SELECT j.status, j.fetched_count, j.added_count, j.updated_count, j.deleted_count, j.unchanged_count
    INTO status, fetched, added, updated, deleted, unchanged FROM nango.jobs j WHERE j.id = jid;
END $$;
-- the raw rows of a sync: key, a field, deleted or not
CREATE FUNCTION rows_of(sid bigint) RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(coalesce(unique_key, '-') || '=' || (data->>'string_field')
                    || CASE WHEN deleted_at IS NULL THEN '' ELSE ' (deleted)' END, ', '
                    ORDER BY unique_key, data->>'string_field')
    FROM nango.raw WHERE sync_id = sid $$;

SELECT mock_get('/__reset');
-- The fixture rotates test1 -> test2 -> test3 -> test1 for each sync.
-- Expected counts (added / updated / deleted / unchanged) per run:
--   run 1 test1 (k1 k2 k3):      3 / 0 / 0 / 0 in every mode
--   run 2 test2 (k2* k4):        upsert: 1 / 1 / 2 with a delete mode (0 with none) / 0
--   run 3 test3 (k2 k4 k1*):     upsert: 1 / 0 / 0 / 2 (k1 is back: added)
--   run 4 test1 (k1 k2 k3):      upsert: 1 / 2 / 1 with a delete mode / 0
-- Overwrite (no unique_key): added = records, deleted = rows replaced:
--   3/0, 2/3, 3/2, 3/3 (as the original product counted them).
-- Unlike the original, delete_mode needs unique_key (an overwrite job
-- replaces all rows anyway), and soft-deleted rows are never re-stamped.
CREATE TEMP TABLE modes (name text, sid bigint);
INSERT INTO modes SELECT m.name, add_paused(mock('/nango-test/test?rotation=' || m.name),
  ('{"auto_mapping": false, "response_path": "results", "metadata": {"metafield": "metavalue"}}')::jsonb || m.cfg)
  FROM (VALUES ('upsert_none', '{"unique_key": "unique_key"}'::jsonb),
               ('upsert_soft', '{"unique_key": "unique_key", "delete_mode": "soft"}'),
               ('upsert_hard', '{"unique_key": "unique_key", "delete_mode": "hard"}'),
               ('overwrite', '{}')) AS m(name, cfg);
SELECT run, name, (c).* FROM
  (SELECT r AS run, m.name, run_counts(m.sid) AS c
     FROM generate_series(1, 4) AS r, LATERAL (SELECT * FROM modes ORDER BY name) m
    ORDER BY r, m.name) x;
SELECT name, rows_of(sid) FROM modes ORDER BY name;

-- The same rotation with auto-mapping: the mapped rows follow run by run.
SELECT mock_get('/__reset');
CREATE TEMP TABLE mapped (name text, sid bigint);
INSERT INTO mapped SELECT m.name, add_paused(mock('/nango-test/test?rotation=m' || m.name),
  ('{"response_path": "results", "metadata": {"metafield": "metavalue"}}')::jsonb || m.cfg)
  FROM (VALUES ('upsert_soft', '{"unique_key": "unique_key", "delete_mode": "soft"}'::jsonb),
               ('upsert_hard', '{"unique_key": "unique_key", "delete_mode": "hard"}'),
               ('overwrite', '{}')) AS m(name, cfg);
CREATE FUNCTION mapped_rows(sid bigint) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  EXECUTE format($q$SELECT string_agg(coalesce(_nango_unique_key, '-') || '=' || string_field
                   || CASE WHEN _nango_deleted_at IS NULL THEN '' ELSE ' (deleted)' END
                   || ' ' || metafield, ', ' ORDER BY _nango_unique_key, string_field)
                  FROM nango._nango_sync_%s$q$, sid) INTO r;
  RETURN r;
END $$;
SELECT run, name, (c).added, (c).updated, (c).deleted, (c).unchanged, mapped_rows(sid) FROM
  (SELECT r AS run, m.name, m.sid, run_counts(m.sid) AS c
     FROM generate_series(1, 4) AS r, LATERAL (SELECT * FROM mapped ORDER BY name) m
    ORDER BY r, m.name) x;
DROP FUNCTION mapped_rows(bigint);
-- mapped tables outlive DROP EXTENSION: remove them with their syncs
SELECT count(nango.delete_sync(sid, true)) FROM mapped;

-- Run by run, the raw rows of the soft and hard delete syncs.
SELECT mock_get('/__reset');
SELECT add_paused(mock('/nango-test/test?rotation=soft2'),
  '{"auto_mapping": false, "response_path": "results", "unique_key": "unique_key", "delete_mode": "soft"}') AS soft \gset
SELECT add_paused(mock('/nango-test/test?rotation=hard2'),
  '{"auto_mapping": false, "response_path": "results", "unique_key": "unique_key", "delete_mode": "hard"}') AS hard \gset
SELECT run_counts(:soft), run_counts(:hard);
CREATE TEMP TABLE soft_ids AS SELECT unique_key, id FROM nango.raw WHERE sync_id = :soft;
SELECT run_counts(:soft), run_counts(:hard);
SELECT rows_of(:soft) AS soft, rows_of(:hard) AS hard;
SELECT run_counts(:soft), run_counts(:hard);
SELECT rows_of(:soft) AS soft, rows_of(:hard) AS hard;
-- a soft-deleted key that comes back is live again with its old row
SELECT r.unique_key, r.id = s.id AS same_row, r.deleted_at IS NULL AS live
  FROM nango.raw r JOIN soft_ids s USING (unique_key) WHERE r.sync_id = :soft ORDER BY 1;

-- A job cut by max_total deletes nothing.
SELECT mock_get('/__reset');
SELECT add_paused(mock('/nango-test/test?rotation=cut'),
  '{"auto_mapping": false, "response_path": "results", "unique_key": "unique_key",
    "delete_mode": "hard", "max_total": 1}') AS cut \gset
SELECT run_counts(:cut);
SELECT run_counts(:cut);
SELECT rows_of(:cut);

-- A failed job deletes nothing either.
SELECT mock_get('/__reset');
SELECT add_paused(mock('/faults/pages?fail_page=3&id=del'),
  '{"auto_mapping": false, "response_path": "data", "unique_key": "id", "retries": 0,
    "delete_mode": "hard", "paging_cursor_metadata_response_path": "next",
    "paging_cursor_request_path": "cursor"}') AS del \gset
SELECT run_counts(:del);
SELECT mock_get('/faults/break?id=del&on=1');
SELECT run_counts(:del);
SELECT count(*) FROM nango.raw WHERE sync_id = :del;

-- Incremental: each job sends the highest updated_at of the last
-- successful job; the boundary record is read again and absorbed by the
-- upsert; the state advances only when a job succeeds.
SELECT mock_get('/__reset');
SELECT add_paused(mock('/incr/items'), '{"auto_mapping": false, "response_path": "items",
  "unique_key": "id", "incremental_cursor_path": "updated_at",
  "incremental_request_path": "updated_since", "paging_number_request_path": "page",
  "delete_mode": "hard", "retries": 0}') AS inc \gset
SELECT run_counts(:inc);
SELECT incremental_state FROM nango.syncs WHERE id = :inc;
SELECT mock_get('/incr/__step?n=1');
SELECT run_counts(:inc);
SELECT incremental_state FROM nango.syncs WHERE id = :inc;
SELECT string_agg(unique_key || '=' || (data->>'name'), ', ' ORDER BY unique_key) FROM nango.raw WHERE sync_id = :inc;
-- nothing changed: only the boundary records are read again
SELECT mock_get('/incr/__step?n=2');
SELECT run_counts(:inc);
-- a failed job keeps the state; the next job sends the same value again
SELECT mock_get('/incr/__fail?page=1');
SELECT run_counts(:inc);
SELECT incremental_state FROM nango.syncs WHERE id = :inc;
SELECT mock_get('/incr/__fail?page=0');
SELECT run_counts(:inc);
SELECT * FROM mock_requests('/incr/items');

-- numbers compare as numbers (12 > 9); an initial value is sent by the first job
SELECT mock_get('/__reset');
SELECT add_paused(mock('/incr/num'), '{"auto_mapping": false, "response_path": "items",
  "unique_key": "id", "incremental_cursor_path": "seq", "incremental_request_path": "since",
  "incremental_initial_value": 9, "paging_number_request_path": "page"}') AS num \gset
SELECT run_counts(:num);
SELECT incremental_state FROM nango.syncs WHERE id = :num;
SELECT mock_get('/incr/__step?n=1');
SELECT run_counts(:num);
SELECT incremental_state FROM nango.syncs WHERE id = :num;
SELECT * FROM mock_requests('/incr/num');

-- POST: the value goes into the JSON body at the dot path
SELECT mock_get('/__reset');
SELECT add_paused(mock('/incr/search'), '{"auto_mapping": false, "method": "POST",
  "body": {"filter": {"kind": "all"}}, "response_path": "items", "unique_key": "id",
  "incremental_cursor_path": "updated_at", "incremental_request_path": "filter.since",
  "incremental_initial_value": "2024-03-01T03:00:00Z", "paging_number_request_path": "page"}') AS post \gset
SELECT run_counts(:post);
SELECT * FROM mock_requests('/incr/search', 'body');

DROP EXTENSION nango CASCADE;
DROP FUNCTION rows_of(bigint);
DROP FUNCTION run_counts(bigint);
DROP FUNCTION sync_once(text, jsonb);
DROP FUNCTION run_quiet(bigint);
DROP FUNCTION mock_requests(text, text);
DROP FUNCTION unport(text);
DROP FUNCTION mock_get(text);
DROP FUNCTION mock(text);
DROP FUNCTION add_paused(text, jsonb);
