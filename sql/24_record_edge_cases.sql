-- Record and paging edge cases: keyless records and paging, secrets written in
-- the sync URL, too long unique keys, metadata changes, exact counts for a
-- key repeated in a job, one-object pages in every paging style, max_total.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS nango CASCADE;
RESET client_min_messages;
CREATE EXTENSION nango;
SET nango.log_level = warning;
CREATE FUNCTION mock(path text) RETURNS text LANGUAGE sql
  AS $$ SELECT current_setting('nango_test.mock_url') || path $$;
CREATE FUNCTION unport(t text) RETURNS text LANGUAGE sql
  AS $$ SELECT regexp_replace(t, '127\.0\.0\.1:[0-9]+', 'mock', 'g') $$;
-- adds a paused sync (only run_sync runs it)
CREATE FUNCTION add_paused(path text, config jsonb) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE sid bigint;
BEGIN
  sid := nango.add_sync(mock(path), config);
  PERFORM nango.pause_sync(sid);
  RETURN sid;
END $$;
-- runs a sync quietly (WARNINGs name the mock's port); returns the job id
CREATE FUNCTION run_quiet(sid bigint) RETURNS bigint LANGUAGE plpgsql
  SET client_min_messages = error AS $$
BEGIN
  RETURN nango.run_sync(sid);
END $$;
-- the last job of a sync
CREATE FUNCTION last_job(sid bigint, OUT status text, OUT pages bigint, OUT fetched bigint,
  OUT added bigint, OUT updated bigint, OUT unchanged bigint, OUT skipped bigint,
  OUT error text)
LANGUAGE sql AS $$
  SELECT status, page_count, fetched_count, added_count, updated_count, unchanged_count,
         skipped_count, unport(error_message)
    FROM nango.jobs WHERE sync_id = sid ORDER BY id DESC LIMIT 1 $$;
-- the query strings the mock received for a path, oldest first
CREATE FUNCTION mock_requests(path text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE sid bigint;
BEGIN
  sid := add_paused('/__requests?path=' || path, '{"auto_mapping": false}');
  PERFORM run_quiet(sid);
  RETURN QUERY SELECT r.data->>'query' FROM nango.raw r WHERE r.sync_id = sid ORDER BY r.id;
  DELETE FROM nango.syncs WHERE id = sid;
END $$;
CREATE FUNCTION mock_reset() RETURNS void LANGUAGE plpgsql AS $$
DECLARE sid bigint;
BEGIN
  sid := add_paused('/__reset', '{"auto_mapping": false}');
  PERFORM run_quiet(sid);
  DELETE FROM nango.syncs WHERE id = sid;
END $$;
CREATE FUNCTION mapped_rows(sid bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM nango.%I', '_nango_sync_' || sid) INTO n;
  RETURN n;
END $$;
CREATE FUNCTION keys_of(sid bigint) RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(unique_key, ',' ORDER BY unique_key::int) FROM nango.raw WHERE sync_id = sid $$;

-- 1. Keyless records do not end offset, page-number or last-record-cursor
-- paging, nor shift offsets: paging counts every record received.
SELECT mock_reset();
SELECT add_paused('/edge/offset/gap', '{"response_path": "items", "unique_key": "id",
  "paging_offset_request_path": "offset", "paging_limit_request_path": "limit",
  "paging_limit": 3, "auto_mapping": false}') AS s_gap \gset
SELECT run_quiet(:s_gap) > 0 AS ran;
SELECT * FROM last_job(:s_gap);
SELECT keys_of(:s_gap);
SELECT * FROM mock_requests('/edge/offset/gap');
SELECT add_paused('/edge/offset/partial', '{"response_path": "items", "unique_key": "id",
  "paging_offset_request_path": "offset", "paging_limit_request_path": "limit",
  "paging_limit": 3, "auto_mapping": false}') AS s_part \gset
SELECT run_quiet(:s_part) > 0 AS ran;
SELECT * FROM last_job(:s_part);
SELECT keys_of(:s_part);
SELECT * FROM mock_requests('/edge/offset/partial');
SELECT add_paused('/edge/pages/gap', '{"response_path": "items", "unique_key": "id",
  "paging_number_request_path": "page", "auto_mapping": false}') AS s_pages \gset
SELECT run_quiet(:s_pages) > 0 AS ran;
SELECT * FROM last_job(:s_pages);
SELECT keys_of(:s_pages);
SELECT add_paused('/edge/lastrec/gap', '{"response_path": "results", "unique_key": "id",
  "paging_cursor_object_response_path": "cursor", "paging_cursor_request_path": "after",
  "auto_mapping": false}') AS s_last \gset
SELECT run_quiet(:s_last) > 0 AS ran;
SELECT * FROM last_job(:s_last);
SELECT keys_of(:s_last);

-- 2. Secrets written in the sync URL's own query (and in query_params and
-- headers) never show, also when the API echoes the request back in its
-- error body: raw, percent-encoded and decoded forms are all redacted.
SELECT add_paused('/edge/leak?api_key=SUPERSECRET123&token=tok%2Bvalue%2F9&limit=5',
  '{"auto_mapping": false, "retries": 0, "headers": {"Authorization": "Bearer HEADERSECRET99"},
    "query_params": {"access_token": "qp secret/1", "page_size": 10}}') AS s_leak \gset
SELECT run_quiet(:s_leak) > 0 AS ran;
SELECT status, unport(error_message) AS error_message, unport(error_detail) AS error_detail
  FROM nango.jobs WHERE sync_id = :s_leak;
SELECT count(*) AS leaks FROM nango.jobs
 WHERE sync_id = :s_leak
   AND concat(error_message, error_detail) ~ '(SUPERSECRET|HEADERSECRET|tok.value|qp.secret)';
-- 3. A unique key too long for the unique index skips that record only.
SELECT add_paused('/edge/longkey', '{"response_path": "data", "unique_key": "id"}') AS s_long \gset
SELECT run_quiet(:s_long) > 0 AS ran;
SELECT * FROM last_job(:s_long);
SELECT keys_of(:s_long);
SELECT mapped_rows(:s_long) AS mapped;

-- 4. A changed metadata reaches rows whose data did not change (nango.raw
-- and the mapped table), counted as updated; an unchanged re-run rewrites
-- nothing.
SELECT add_paused('/edge/static', '{"response_path": "data", "unique_key": "id",
  "metadata": {"tenant": "a"}}') AS s_meta \gset
SELECT run_quiet(:s_meta) > 0 AS ran;
SELECT * FROM last_job(:s_meta);
SELECT nango.update_sync(:s_meta, '{"metadata": {"tenant": "b", "region": "eu"}}');
SELECT run_quiet(:s_meta) > 0 AS ran;
SELECT * FROM last_job(:s_meta);
SELECT unique_key, metadata FROM nango.raw WHERE sync_id = :s_meta ORDER BY unique_key;
SELECT format('SELECT id, v, tenant, region FROM nango.%I ORDER BY id', '_nango_sync_' || :s_meta) AS q \gset
:q;
SELECT max(job_id) AS job_before FROM nango.raw WHERE sync_id = :s_meta \gset
SELECT run_quiet(:s_meta) > 0 AS ran;
SELECT * FROM last_job(:s_meta);
SELECT count(*) AS rewritten FROM nango.raw WHERE sync_id = :s_meta AND job_id > :job_before;
-- metadata removed: NULL again
SELECT nango.update_sync(:s_meta, '{"metadata": null}');
SELECT run_quiet(:s_meta) > 0 AS ran;
SELECT * FROM last_job(:s_meta);
SELECT count(*) AS with_metadata FROM nango.raw WHERE sync_id = :s_meta AND metadata IS NOT NULL;
SELECT format('SELECT count(*) AS mapped_with_metadata FROM nango.%I WHERE tenant IS NOT NULL OR region IS NOT NULL', '_nango_sync_' || :s_meta) AS q \gset
:q;

-- 5. A key seen again later in the job is counted once: unchanged twice
-- is one unchanged; unchanged then a new version is one updated.
SELECT add_paused('/edge/repeat/same', '{"response_path": "data", "unique_key": "id",
  "paging_cursor_metadata_response_path": "next", "paging_cursor_request_path": "cursor",
  "auto_mapping": false}') AS s_same \gset
SELECT run_quiet(:s_same) > 0 AS ran;
SELECT * FROM last_job(:s_same);
SELECT run_quiet(:s_same) > 0 AS ran;
SELECT * FROM last_job(:s_same);
SELECT add_paused('/edge/repeat/diff', '{"response_path": "data", "unique_key": "id",
  "paging_cursor_metadata_response_path": "next", "paging_cursor_request_path": "cursor",
  "auto_mapping": false}') AS s_diff \gset
SELECT run_quiet(:s_diff) > 0 AS ran;
SELECT * FROM last_job(:s_diff);
SELECT run_quiet(:s_diff) > 0 AS ran;
SELECT * FROM last_job(:s_diff);
SELECT unique_key, data->>'v' AS v FROM nango.raw WHERE sync_id = :s_diff ORDER BY unique_key;

-- 6. response_path giving one object per page works with every paging style.
CREATE TEMP TABLE styles (style text, config jsonb);
INSERT INTO styles VALUES
 ('offset', '{"paging_offset_request_path": "offset", "paging_limit_request_path": "limit", "paging_limit": 1}'),
 ('pages', '{"paging_number_request_path": "page"}'),
 ('metadata', '{"paging_cursor_metadata_response_path": "next", "paging_cursor_request_path": "cursor"}'),
 ('lastrec', '{"paging_cursor_object_response_path": "cursor", "paging_cursor_request_path": "cursor"}'),
 ('url', '{"paging_url_path": "next_url"}'),
 ('link', '{"paging_header_link_rel": "next"}');
SELECT s.style, j.status, j.pages, j.fetched, j.added, j.error, keys_of(x.sid) AS keys
  FROM styles s,
       LATERAL (SELECT add_paused('/edge/object/' || s.style,
                  '{"response_path": "item", "unique_key": "id", "auto_mapping": false}'::jsonb
                  || s.config) AS sid) x,
       LATERAL (SELECT run_quiet(x.sid)) r,
       LATERAL last_job(x.sid) j
 ORDER BY s.style;

-- 7. max_total cutting a page writes exactly that many rows, in both modes.
SELECT add_paused('/edge/many', '{"response_path": "data", "unique_key": "id", "max_total": 4}') AS s_max \gset
SELECT run_quiet(:s_max) > 0 AS ran;
SELECT * FROM last_job(:s_max);
SELECT keys_of(:s_max);
SELECT mapped_rows(:s_max) AS mapped;
SELECT add_paused('/edge/many', '{"response_path": "data", "max_total": 4}') AS s_max2 \gset
SELECT run_quiet(:s_max2) > 0 AS ran;
SELECT * FROM last_job(:s_max2);
SELECT count(*) AS raw_rows FROM nango.raw WHERE sync_id = :s_max2;
SELECT mapped_rows(:s_max2) AS mapped;

-- clean up: the mapped tables too (they outlive the extension)
SELECT count(nango.delete_sync(id, true)) AS deleted FROM nango.syncs;
DROP FUNCTION keys_of(bigint);
DROP FUNCTION mapped_rows(bigint);
DROP FUNCTION mock_reset();
DROP FUNCTION mock_requests(text);
DROP FUNCTION last_job(bigint);
DROP FUNCTION run_quiet(bigint);
DROP FUNCTION add_paused(text, jsonb);
DROP FUNCTION unport(text);
DROP FUNCTION mock(text);
SET client_min_messages = warning;
DROP EXTENSION nango CASCADE;
