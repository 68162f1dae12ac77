-- nango.preview: the first pages of a config as a job would fetch them,
-- with the next request and why paging would stop; nothing is stored.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS nango CASCADE;
DROP ROLE IF EXISTS preview_role;
RESET client_min_messages;
CREATE EXTENSION nango;
SET nango.log_level = warning;
\i test/sql/engine_helpers.sql
SELECT mock_get('/__reset');

-- what exists before: relations, and rows of nango's tables
CREATE TEMP TABLE before AS
  SELECT (SELECT count(*) FROM pg_class WHERE relpersistence <> 't') AS relations,
         (SELECT count(*) FROM nango.syncs) AS syncs,
         (SELECT count(*) FROM nango.jobs) AS jobs,
         (SELECT count(*) FROM nango.raw) AS raw_rows;
-- pv: a preview, with the mock's port taken out of the requests
CREATE FUNCTION pv(path text, config jsonb, pages integer DEFAULT 1)
RETURNS TABLE (page integer, request text, http_status integer, record_count integer,
               next_request text, stop_reason text)
LANGUAGE sql AS $$
  SELECT p.page, unport(p.request), p.http_status, p.record_count,
         unport(p.next_request), unport(p.stop_reason)
    FROM nango.preview(mock(path), config, pages) p
$$;

-- Cursor in the response body: page 1 and the request of page 2.
SELECT * FROM pv('/hubspot/crm/v3/objects/contacts',
  '{"headers": {"authorization": "Bearer hs-secret-token-123"}, "query_params": {"limit": 3},
    "paging_cursor_request_path": "after", "paging_cursor_metadata_response_path": "paging.next.after",
    "response_path": "results", "unique_key": "id"}', 3);
-- first_record and columns: what auto-mapping would create from the page
SELECT first_record->>'id' AS first_id, columns
  FROM nango.preview(mock('/hubspot/crm/v3/objects/contacts'),
  '{"headers": {"authorization": "Bearer hs-secret-token-123"}, "query_params": {"limit": 3},
    "paging_cursor_request_path": "after", "paging_cursor_metadata_response_path": "paging.next.after",
    "response_path": "results", "unique_key": "id"}');
-- the columns follow the mapping options
SELECT columns FROM nango.preview(mock('/simple/items'), '{"response_path": "data", "fields": ["id"]}');
SELECT columns FROM nango.preview(mock('/simple/items'), '{"response_path": "data"}');
-- Link header (GitHub): the next URL as given
SELECT * FROM pv('/github/repos/octo/hello/stargazers?per_page=30',
  '{"paging_header_link_rel": "next", "unique_key": "id"}', 10);
-- cursor from the last record, up to the empty page that ends it
SELECT * FROM pv('/lastrec/items', '{"response_path": "results",
  "paging_cursor_request_path": "after", "paging_cursor_object_response_path": "cursor"}', 5);
-- offset + limit, and page numbers
SELECT * FROM pv('/offset/items', '{"response_path": "items", "paging_offset_request_path": "offset",
    "paging_limit_request_path": "limit", "paging_limit": 10}', 5);
SELECT * FROM pv('/pages/contacts', '{"query_params": {"per_page": 5}, "response_path": "contacts",
    "paging_number_request_path": "page"}', 2);
-- stop rules: a missing, null, empty or false cursor; a loop; max_total
SELECT k, (p).page, (p).record_count, (p).next_request IS NULL AS last, (p).stop_reason
  FROM (SELECT k, pv('/stops/' || k, '{"response_path": "data", "paging_cursor_request_path": "cursor",
          "paging_cursor_metadata_response_path": "meta.next"}', 3) AS p
          FROM unnest(ARRAY['missing', 'null', 'empty', 'false', 'loop']) AS k) s
 ORDER BY k, (p).page;
SELECT * FROM pv('/github/repos/octo/hello/stargazers',
  '{"paging_header_link_rel": "next", "max_total": 40}', 10);
-- no paging: one page, nothing next
SELECT * FROM pv('/simple/items', '{"response_path": "data"}', 3);

-- Failures are rows: an HTTP error, a body that is not JSON, a missing
-- response_path; secrets are redacted in every column.
SELECT * FROM pv('/faults/status?code=404&token=qs-secret-4242', '{"retries": 0}');
SELECT * FROM pv('/faults/html', '{"retries": 0}');
SELECT * FROM pv('/simple/items', '{"response_path": "nope"}');
-- the network guard applies as in a job
SET nango.allow_private_networks = off;
SELECT page, request, http_status, stop_reason ~ 'nango.allow_private_networks' AS guard_named
  FROM nango.preview('http://127.0.0.1:9/x');
RESET nango.allow_private_networks;

-- Config errors are errors, as in add_sync; pages is 1 to 10.
SELECT * FROM nango.preview('ftp://example.com/x');
SELECT * FROM nango.preview('https://api.example.com/x', '{"unique_keys": "id"}');
SELECT * FROM nango.preview('https://api.example.com/x', '{}', 0);
SELECT * FROM nango.preview('https://api.example.com/x', '{}', 11);

-- Nothing was stored: no relation, sync, job or raw row more than before.
SELECT (SELECT count(*) FROM pg_class WHERE relpersistence <> 't') = relations AS same_relations,
       (SELECT count(*) FROM nango.syncs) = syncs AS same_syncs,
       (SELECT count(*) FROM nango.jobs) = jobs AS same_jobs,
       (SELECT count(*) FROM nango.raw) = raw_rows AS same_raw
  FROM before;

-- Any role may preview (nothing is stored, and nothing runs as another role).
CREATE ROLE preview_role;
SET ROLE preview_role;
SELECT page, record_count, stop_reason FROM nango.preview(mock('/simple/items'), '{"response_path": "data"}');
RESET ROLE;
DROP ROLE preview_role;

DROP FUNCTION pv(text, jsonb, integer);
DROP FUNCTION sync_once(text, jsonb);
DROP FUNCTION run_quiet(bigint);
DROP FUNCTION mock_requests(text, text);
DROP FUNCTION unport(text);
DROP FUNCTION mock_get(text);
DROP FUNCTION mock(text);
DROP FUNCTION add_paused(text, jsonb);
