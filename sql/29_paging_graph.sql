-- Paths as JSON arrays of steps (docs/config.md) against a Microsoft
-- Graph-shaped API whose next URL is under "@odata.nextLink", and next
-- URLs with characters a URL cannot carry as they are (Figma's raw spaces).
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS nango CASCADE;
RESET client_min_messages;
CREATE EXTENSION nango;
SET nango.log_level = warning;
\i test/sql/engine_helpers.sql

-- Graph: 7 users in pages of 3; the next URL is at the key "@odata.nextLink"
-- (a key with a dot: only the array form names it).  Its $skiptoken carries
-- %3D, which is sent back untouched.  unique_key in the array form too.
SELECT status, pages, fetched, added, error FROM sync_once('/graph/v1.0/users?$top=3',
  '{"response_path": ["value"], "paging_url_path": ["@odata.nextLink"],
    "unique_key": ["@odata.id"]}') \gset graph_
SELECT :'graph_status' AS status, :graph_pages AS pages, :graph_fetched AS fetched;
SELECT * FROM mock_requests('/graph/v1.0/users');
SELECT unique_key FROM nango.raw WHERE sync_id = (SELECT max(id) FROM nango.syncs) ORDER BY unique_key;
-- the stored config keeps the array form
SELECT config->'paging_url_path' AS paging_url_path, config->'unique_key' AS unique_key
  FROM nango.syncs WHERE id = (SELECT max(id) FROM nango.syncs);

-- The dot form of the same key means two steps ("@odata", "nextLink"): not
-- found, so paging ends after page 1.
SELECT status, pages, fetched FROM sync_once('/graph/v1.0/users?$top=3',
  '{"response_path": "value", "paging_url_path": "@odata.nextLink", "unique_key": "id"}');

-- Both forms mean the same where both can be written: an index step.
SELECT status, pages, fetched, added FROM sync_once('/graph/v1.0/users?$top=3',
  '{"response_path": "value", "paging_url_path": ["@odata.nextLink"],
    "unique_key": ["businessPhones", 0]}');
SELECT array_agg(unique_key ORDER BY unique_key) AS array_form
  FROM nango.raw WHERE sync_id = (SELECT max(id) FROM nango.syncs);
SELECT status, pages, fetched, added FROM sync_once('/graph/v1.0/users?$top=3',
  '{"response_path": "value", "paging_url_path": ["@odata.nextLink"],
    "unique_key": "businessPhones.0"}');
SELECT array_agg(unique_key ORDER BY unique_key) AS dot_form
  FROM nango.raw WHERE sync_id = (SELECT max(id) FROM nango.syncs);
-- an integer step is an array index only, a string step a key only
SELECT status, fetched, skipped, error FROM sync_once('/graph/v1.0/users?$top=7',
  '{"response_path": "value", "unique_key": ["businessPhones", "0"]}');

-- Request-side paths in the array form: the query parameter names.
SELECT status, pages, fetched FROM sync_once('/offset/items',
  '{"response_path": ["items"], "paging_offset_request_path": ["offset"],
    "paging_limit_request_path": ["limit"], "paging_limit": 10}');
SELECT * FROM mock_requests('/offset/items');

-- Refused array forms.
\set VERBOSITY default
SELECT nango.add_sync('https://api.example.com/x', '{"paging_url_path": []}');
SELECT nango.add_sync('https://api.example.com/x', '{"unique_key": ["a", -1]}');
SELECT nango.add_sync('https://api.example.com/x', '{"unique_key": ["a", 1.5]}');
SELECT nango.add_sync('https://api.example.com/x', '{"unique_key": ["a", null]}');
SELECT nango.add_sync('https://api.example.com/x', '{"unique_key": ["a", ["b"]]}');
SELECT nango.add_sync('https://api.example.com/x', '{"paging_cursor_metadata_response_path": ["next"],
  "paging_cursor_request_path": ["page", 0]}');
SELECT nango.add_sync('https://api.example.com/x', '{"response_path": "data..items"}');
\set VERBOSITY terse

-- Figma: the next URL (pagination.prev_page) has raw spaces in a
-- timestamp; they are percent-encoded, everything else is sent as given.
SELECT status, pages, fetched, added, error FROM sync_once('/figma/v1/files/ABC/versions?page_size=2',
  '{"response_path": "versions", "paging_url_path": "pagination.prev_page", "unique_key": "id"}');
SELECT * FROM mock_requests('/figma/v1/files/ABC/versions');

-- A secret query parameter in such a URL is redacted in the error of the
-- page that failed, and in the job's detail.
SELECT status, pages, error FROM sync_once('/figma/v1/files/denied/versions?page_size=2&api_key=figd_s3cr3t',
  '{"response_path": "versions", "paging_url_path": "pagination.prev_page"}');
SELECT error_detail LIKE '%figd_s3cr3t%' AS detail_has_secret,
       error_detail LIKE '%before=2026-05-20\%2020:10:33\%20UTC%' AS detail_has_encoded_url
  FROM nango.jobs WHERE id = (SELECT max(id) FROM nango.jobs);

SET client_min_messages = warning;
DROP EXTENSION nango CASCADE;
DROP FUNCTION sync_once(text, jsonb);
DROP FUNCTION run_quiet(bigint);
DROP FUNCTION mock_requests(text, text);
DROP FUNCTION unport(text);
DROP FUNCTION mock_get(text);
DROP FUNCTION mock(text);
DROP FUNCTION add_paused(text, jsonb);
