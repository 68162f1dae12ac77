-- nango.run_sync end to end against a HubSpot-like API: cursor in the
-- response metadata, records at response_path, both storage modes.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS nango CASCADE;
RESET client_min_messages;
CREATE EXTENSION nango;
SET nango.log_level = warning;

\i test/sql/engine_helpers.sql
-- job rows without timestamps, ids or pids
CREATE VIEW job AS
  SELECT sync_id, id, status, page_count AS pages, fetched_count AS fetched,
         added_count AS added, updated_count AS updated, unchanged_count AS unchanged,
         deleted_count AS deleted, skipped_count AS skipped, error_message, error_detail
    FROM nango.jobs;

SELECT mock_get('/__reset');

-- Upsert mode (unique_key), 3 records per page: 7 contacts in 3 pages.
SELECT add_paused(mock('/hubspot/crm/v3/objects/contacts'), '{
  "friendly_name": "HubSpot contacts",
  "headers": {"authorization": "Bearer hs-secret-token-123"},
  "query_params": {"limit": 3},
  "paging_cursor_request_path": "after",
  "paging_cursor_metadata_response_path": "paging.next.after",
  "response_path": "results",
  "unique_key": "id",
  "auto_mapping": false
}') AS hs \gset
SELECT nango.run_sync(:hs) > 0 AS ran;
SELECT status, pages, fetched, added, updated, unchanged, deleted, skipped, error_message
  FROM job WHERE sync_id = :hs ORDER BY id;
SELECT unique_key, data->'properties'->>'email' AS email, job_id IS NOT NULL AS has_job,
       length(data_hash) AS hash_len, metadata, deleted_at
  FROM nango.raw WHERE sync_id = :hs ORDER BY unique_key;
-- the requests: limit from query_params, then the cursor
SELECT * FROM mock_requests('/hubspot/crm/v3/objects/contacts');

-- Run again: nothing changed, every row is unchanged and not rewritten.
CREATE TEMP TABLE before AS
  SELECT unique_key, ctid::text AS tid, job_id FROM nango.raw WHERE sync_id = :hs;
SELECT nango.run_sync(:hs) > 0 AS ran;
SELECT status, pages, fetched, added, updated, unchanged FROM job WHERE sync_id = :hs ORDER BY id;
SELECT count(*) AS rewritten FROM nango.raw r JOIN before b USING (unique_key)
 WHERE r.ctid::text <> b.tid OR r.job_id <> b.job_id;

-- v2: 53 changed, 58 added, 55 gone (delete_mode none keeps it), key order
-- of every record reversed: the content hash does not depend on key order.
SELECT mock_get('/hubspot/__dataset?name=v2');
SELECT nango.run_sync(:hs) > 0 AS ran;
SELECT status, pages, fetched, added, updated, unchanged, deleted
  FROM job WHERE sync_id = :hs ORDER BY id;
SELECT unique_key, data->'properties'->>'lastname' AS lastname, deleted_at
  FROM nango.raw WHERE sync_id = :hs ORDER BY unique_key;

-- Overwrite mode (no unique_key): the rows are replaced.
SELECT mock_get('/hubspot/__dataset?name=v1');
SELECT add_paused(mock('/hubspot/crm/v3/objects/contacts'), '{
  "headers": {"authorization": "Bearer hs-secret-token-123"},
  "query_params": {"limit": 5},
  "paging_cursor_request_path": "after",
  "paging_cursor_metadata_response_path": "paging.next.after",
  "response_path": "results",
  "metadata": {"source": "hubspot", "account": 7},
  "auto_mapping": false
}') AS ow \gset
SELECT nango.run_sync(:ow) > 0 AS ran;
SELECT nango.run_sync(:ow) > 0 AS ran;
SELECT status, pages, fetched, added, updated, unchanged, deleted
  FROM job WHERE sync_id = :ow ORDER BY id;
SELECT count(*) AS rows, count(DISTINCT job_id) AS jobs, count(unique_key) AS keys,
       min(metadata::text) AS metadata
  FROM nango.raw WHERE sync_id = :ow;

-- POST with the cursor in the JSON body (HubSpot search).
SELECT mock_get('/__reset');
SELECT add_paused(mock('/hubspot/crm/v3/objects/contacts/search'), '{
  "method": "post",
  "headers": {"authorization": "Bearer hs-secret-token-123"},
  "body": {"limit": 4, "filterGroups": []},
  "paging_cursor_request_path": "after",
  "paging_cursor_metadata_response_path": "paging.next.after",
  "response_path": "results",
  "unique_key": "properties.email",
  "auto_mapping": false
}') AS post \gset
SELECT nango.run_sync(:post) > 0 AS ran;
SELECT status, pages, fetched, added FROM job WHERE sync_id = :post;
SELECT unique_key FROM nango.raw WHERE sync_id = :post ORDER BY 1;
SELECT * FROM mock_requests('/hubspot/crm/v3/objects/contacts/search', 'body');

-- A 401 fails at once; the error names the status and the redacted URL.
SELECT add_paused(mock('/hubspot/crm/v3/objects/contacts?hapikey=abc123secret'), '{
  "headers": {"authorization": "Bearer expired"},
  "response_path": "results",
  "auto_mapping": false
}') AS bad \gset
SELECT run_quiet(:bad);
SELECT status, pages, fetched, unport(error_message) AS error_message,
       unport(error_detail) AS error_detail FROM job WHERE sync_id = :bad;

-- No secret header value anywhere in the job rows.
SELECT count(*) AS leaks FROM nango.jobs
 WHERE coalesce(error_message, '') || coalesce(error_detail, '') ~ 'hs-secret-token|abc123secret';

-- Only the owner (or a member of the owner role, or a superuser) may run a
-- sync; an unknown sync id is a clear error.
SELECT nango.run_sync(-42);
CREATE ROLE nango_engine_alice;
CREATE ROLE nango_engine_bob;
GRANT nango_engine_alice TO nango_engine_bob;
CREATE ROLE nango_engine_eve;
SET ROLE nango_engine_alice;
SELECT add_paused(mock('/hubspot/crm/v3/objects/contacts'), '{
  "headers": {"authorization": "Bearer alice-token"}, "response_path": "results",
  "unique_key": "id", "auto_mapping": false}') AS alice \gset
SELECT nango.run_sync(:alice) > 0 AS ran;
SELECT status, fetched_count FROM nango.jobs WHERE sync_id = :alice;
SELECT count(*) FROM nango.raw WHERE sync_id = :alice;
SET ROLE nango_engine_bob;
SELECT nango.run_sync(:alice) > 0 AS ran;
SELECT set_config('engine_test.alice', :'alice', false) IS NOT NULL AS set;
SET ROLE nango_engine_eve;
DO $$ BEGIN
  PERFORM nango.run_sync(current_setting('engine_test.alice')::bigint);
EXCEPTION WHEN OTHERS THEN
  RAISE NOTICE 'refused with SQLSTATE %: %', SQLSTATE, regexp_replace(SQLERRM, '[0-9]+', 'N');
END $$;
SELECT count(*) AS visible FROM nango.raw WHERE sync_id = :alice;
RESET ROLE;

-- The network guard: with nango.allow_private_networks off, the loopback
-- mock is refused (checked on the address connected to).
SET nango.allow_private_networks = off;
SELECT run_quiet(:hs);
SELECT status, unport(error_message) AS error_message FROM job WHERE sync_id = :hs ORDER BY id DESC LIMIT 1;
RESET nango.allow_private_networks;

DROP EXTENSION nango CASCADE;
DROP ROLE nango_engine_alice, nango_engine_bob, nango_engine_eve;
DROP FUNCTION sync_once(text, jsonb);
DROP FUNCTION mock_requests(text, text);
DROP FUNCTION run_quiet(bigint);
DROP FUNCTION unport(text);
DROP FUNCTION mock_get(text);
DROP FUNCTION mock(text);
DROP FUNCTION add_paused(text, jsonb);
