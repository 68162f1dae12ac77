-- Faults: retries, Retry-After, timeouts, bad bodies, size limit, redirects,
-- atomicity of a failing job, cancellation, secrets.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS nango CASCADE;
RESET client_min_messages;
CREATE EXTENSION nango;
SET nango.log_level = warning;
\i test/sql/engine_helpers.sql
CREATE FUNCTION detail(sid bigint) RETURNS text LANGUAGE sql AS $$
  SELECT unport(error_detail) FROM nango.jobs WHERE sync_id = sid ORDER BY id DESC LIMIT 1 $$;

-- 500 then OK: retried, the job succeeds with one page.
SELECT status, pages, fetched, error FROM sync_once('/faults/flaky?id=a&fail=2',
  '{"response_path": "data"}');
SELECT count(*) AS requests FROM mock_requests('/faults/flaky');
-- 503 every time: after "retries" the job fails, naming the status and URL.
SELECT status, pages, fetched, error, detail(sync_id) FROM sync_once('/faults/flaky?id=b&fail=9&status=503',
  '{"response_path": "data", "retries": 1}');
SELECT count(*) AS requests FROM mock_requests('/faults/flaky');
-- 429 with Retry-After in seconds, and as an HTTP date: waited for, then OK.
SELECT status, pages, fetched, error FROM sync_once('/faults/ratelimit?id=c&after=1',
  '{"response_path": "data"}');
SELECT status, pages, fetched, error FROM sync_once('/faults/ratelimit?id=d&after=date:2',
  '{"response_path": "data"}');
SELECT count(*) AS requests FROM mock_requests('/faults/ratelimit');
-- a Retry-After beyond the cap (60 s) waits the cap, then retries: see 25_retry_after_cap
-- other 4xx fail at once, without retries
SELECT status, error, detail(sync_id) FROM sync_once('/faults/status?code=404', '{"response_path": "data"}');
SELECT count(*) AS requests FROM mock_requests('/faults/status');
SELECT status, error FROM sync_once('/faults/status?code=400', '{"response_path": "data"}');

-- A slow response against the timeout (retries too, then fail).
SELECT status, error FROM sync_once('/faults/slow?delay=3',
  '{"response_path": "data", "timeout": 1, "retries": 1}');
SELECT count(*) AS requests FROM mock_requests('/faults/slow');
SELECT status, fetched FROM sync_once('/faults/drip?chunks=3&pause=0.2',
  '{"response_path": "data", "timeout": "5s"}');

-- Bodies that are not JSON, not UTF-8, empty of records.
SELECT status, error, detail(sync_id) FROM sync_once('/faults/malformed', '{"response_path": "data"}');
SELECT status, error, detail(sync_id) FROM sync_once('/faults/html', '{"response_path": "data"}');
SELECT status, error FROM sync_once('/faults/latin1', '{"response_path": "data"}');
-- \u0000 escapes become U+FFFD; an escaped backslash before u0000 is text
SELECT status, fetched FROM sync_once('/faults/nul', '{"response_path": "data"}');
SELECT data->>'text' AS text, data->>'esc' AS esc FROM nango.raw
 WHERE sync_id = (SELECT max(id) FROM nango.syncs);
-- too deep nesting fails the job, not the server
SELECT status, error FROM sync_once('/faults/deep?depth=200000', '{"response_path": "data"}');
-- response_path missing on a later page ends the data (page 1 fails: see 21)
SELECT status, pages, fetched, error FROM sync_once('/faults/missing-later',
  '{"response_path": "data", "paging_cursor_metadata_response_path": "next",
    "paging_cursor_request_path": "cursor"}');

-- an empty body on a later page (a 204) ends the data; on page 1 it fails
SELECT status, pages, fetched, error FROM sync_once('/faults/empty-later',
  '{"response_path": "data", "paging_cursor_metadata_response_path": "next",
    "paging_cursor_request_path": "cursor"}');
SELECT status, pages, fetched, error FROM sync_once('/faults/empty-later?cursor=x',
  '{"response_path": "data"}');
-- a real empty array on page 1 is a success: overwrite mode then removes
-- the sync's rows (the API said there is nothing)
SELECT mock_get('/__reset');
SELECT add_paused(mock('/faults/maybe-empty?id=e'), '{"auto_mapping": false,
  "response_path": "data"}') AS empty \gset
SELECT run_quiet(:empty);
SELECT count(*) FROM nango.raw WHERE sync_id = :empty;
SELECT mock_get('/faults/break?id=e&on=1');
SELECT run_quiet(:empty);
SELECT count(*) FROM nango.raw WHERE sync_id = :empty;
SELECT status, page_count, fetched_count, added_count, deleted_count
  FROM nango.jobs WHERE sync_id = :empty ORDER BY id;

-- nango.max_response_size is enforced while receiving, also after gzip.
SET nango.max_response_size = '64kB';
SELECT status, error FROM sync_once('/faults/big?kb=50', '{"response_path": "data"}');
SELECT status, error FROM sync_once('/faults/big?kb=200', '{"response_path": "data"}');
SELECT status, error FROM sync_once('/faults/big?kb=200&gzip=1', '{"response_path": "data"}');
RESET nango.max_response_size;
SELECT status, fetched FROM sync_once('/faults/big?kb=200&gzip=1', '{"response_path": "data"}');

-- Redirects: 5 are followed, a 6th fails; only http and https.
SELECT status, fetched, error FROM sync_once('/faults/redirect?n=5', '{"response_path": "data"}');
SELECT status, fetched, error FROM sync_once('/faults/redirect?n=6', '{"response_path": "data"}');
SELECT status, fetched, error FROM sync_once('/faults/redirect-ftp', '{"response_path": "data"}');

-- Overwrite atomicity: a job failing on page 3 changes nothing; the rows of
-- the last good job stay, with their ids.
SELECT mock_get('/__reset');
SELECT add_paused(mock('/faults/pages?fail_page=3&id=ow'), '{
  "auto_mapping": false, "response_path": "data", "retries": 0,
  "paging_cursor_metadata_response_path": "next", "paging_cursor_request_path": "cursor"}') AS ow \gset
SELECT run_quiet(:ow);
CREATE TEMP TABLE ow_before AS SELECT id, data FROM nango.raw WHERE sync_id = :ow;
SELECT count(*) FROM ow_before;
SELECT mock_get('/faults/break?id=ow&on=1');
SELECT run_quiet(:ow);
SELECT status, page_count, fetched_count, added_count, deleted_count, unport(error_message),
       unport(error_detail)
  FROM nango.jobs WHERE sync_id = :ow ORDER BY id;
SELECT count(*) AS same_rows FROM nango.raw r JOIN ow_before b USING (id) WHERE r.sync_id = :ow;
SELECT count(*) AS all_rows FROM nango.raw WHERE sync_id = :ow;
-- the same in upsert mode
SELECT add_paused(mock('/faults/pages?fail_page=4&id=up'), '{
  "auto_mapping": false, "response_path": "data", "retries": 0, "unique_key": "id",
  "paging_cursor_metadata_response_path": "next", "paging_cursor_request_path": "cursor"}') AS up \gset
SELECT mock_get('/faults/break?id=up&on=1');
SELECT run_quiet(:up);
SELECT count(*) FROM nango.raw WHERE sync_id = :up;

-- Cancellation: statement_timeout stops a slow transfer promptly; the job
-- is recorded as cancelled and run_sync returns.
SELECT add_paused(mock('/faults/slow?delay=20'), '{"auto_mapping": false,
  "response_path": "data"}') AS slow \gset
SET statement_timeout = '1s';
SELECT run_quiet(:slow);
RESET statement_timeout;
SELECT status, error_message, ended_at - started_at < interval '5 seconds' AS prompt
  FROM nango.jobs WHERE sync_id = :slow;
-- also during the backoff sleep of a retry
SELECT add_paused(mock('/faults/ratelimit?id=z&after=30'), '{"auto_mapping": false,
  "response_path": "data"}') AS rl \gset
SET statement_timeout = '1s';
SELECT run_quiet(:rl);
RESET statement_timeout;
SELECT status, error_message, ended_at - started_at < interval '5 seconds' AS prompt
  FROM nango.jobs WHERE sync_id = :rl;

-- Secrets: header values and secret-looking query parameters never appear
-- in job rows, even when the API echoes them back.
SELECT status, error, detail(sync_id) FROM sync_once('/faults/status?code=403&api_key=k-live-777&page=1',
  '{"headers": {"Authorization": "Bearer tok-abcdef-123", "X-Api-Key": "xkey-98765"},
    "query_params": {"access_token": "qtok-555", "user": "bob"}, "response_path": "data"}');
SELECT count(*) AS leaks FROM nango.jobs
 WHERE concat(error_message, error_detail) ~ 'k-live-777|tok-abcdef-123|xkey-98765|qtok-555';

DROP EXTENSION nango CASCADE;
DROP FUNCTION detail(bigint);
DROP FUNCTION sync_once(text, jsonb);
DROP FUNCTION run_quiet(bigint);
DROP FUNCTION mock_requests(text, text);
DROP FUNCTION unport(text);
DROP FUNCTION mock_get(text);
DROP FUNCTION mock(text);
DROP FUNCTION add_paused(text, jsonb);
