-- Refused arguments (README.md, docs/config.md): each mistake is an ERROR with
-- a SQLSTATE (shown before the message), a message naming the key, and a
-- hint where one helps.  Nothing is committed.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS nango;
RESET client_min_messages;
\set ON_ERROR_ROLLBACK on
\set SHOW_CONTEXT never
BEGIN;
-- A fresh copy of the extension (rolled back at the end): ids start at 1.
DROP EXTENSION nango CASCADE;
CREATE EXTENSION nango;
SET LOCAL client_min_messages = notice;
-- pg_temp.add: add_sync, showing the SQLSTATE of a refusal in the message.
CREATE FUNCTION pg_temp.add(config jsonb, url text DEFAULT 'https://api.example.com/items')
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  st text; msg text; det text; hin text;
BEGIN
  PERFORM nango.add_sync(url, config);
  RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                          det = PG_EXCEPTION_DETAIL, hin = PG_EXCEPTION_HINT;
  msg := st || ': ' || msg;
  IF det <> '' AND hin <> '' THEN
    RAISE EXCEPTION USING ERRCODE = st, MESSAGE = msg, DETAIL = det, HINT = hin;
  ELSIF det <> '' THEN
    RAISE EXCEPTION USING ERRCODE = st, MESSAGE = msg, DETAIL = det;
  ELSIF hin <> '' THEN
    RAISE EXCEPTION USING ERRCODE = st, MESSAGE = msg, HINT = hin;
  ELSE
    RAISE EXCEPTION USING ERRCODE = st, MESSAGE = msg;
  END IF;
END $$;

-- The URL: absolute http or https with a host.
SELECT pg_temp.add('{}', NULL);
SELECT pg_temp.add('{}', '');
SELECT pg_temp.add('{}', 'ftp://files.example.com/items.json');
SELECT pg_temp.add('{}', 'file:///etc/passwd');
SELECT pg_temp.add('{}', 'api.example.com/items');
SELECT pg_temp.add('{}', '/items');
SELECT pg_temp.add('{}', 'http://');
SELECT pg_temp.add('{}', 'https:///items');
SELECT pg_temp.add('{}', 'http://exa mple.com/');
SELECT pg_temp.add('{}', 'http://example.com:99999/');
SELECT pg_temp.add('{}', E'https://api.example.com/items\nHost: evil');
-- The URL is not repeated in the error: it may hold a secret.
SELECT pg_temp.add('{}', 'ftp://user:s3cret@api.example.com/items?api_key=s3cret');

-- The config is a JSON object.
SELECT pg_temp.add('[]');
SELECT pg_temp.add('"frequency"');
SELECT pg_temp.add('15');

-- Unknown keys: the hint names the closest valid key.
SELECT pg_temp.add('{"frequncy": 15}');
SELECT pg_temp.add('{"Frequency": 15}');
SELECT pg_temp.add('{"uniqueKey": "id"}');
SELECT pg_temp.add('{"paging_cursor_response_path": "next"}');
SELECT pg_temp.add('{"url": "https://api.example.com"}');
SELECT pg_temp.add('{"zzzzzzzzzzzzzzzzzzzzzz": 1}');
SELECT pg_temp.add('{"": 1}');

-- Wrong JSON types.
SELECT pg_temp.add('{"method": 1}');
SELECT pg_temp.add('{"headers": ["Accept: application/json"]}');
SELECT pg_temp.add('{"headers": {"X-Count": 1}}');
SELECT pg_temp.add('{"query_params": "a=1"}');
SELECT pg_temp.add('{"query_params": {"filter": {"a": 1}}}');
SELECT pg_temp.add('{"query_params": {"a": null}}');
SELECT pg_temp.add('{"query_params": {"ids": [1, [2]]}}');
SELECT pg_temp.add('{"timeout": true}');
SELECT pg_temp.add('{"retries": "5"}');
SELECT pg_temp.add('{"response_path": {"data": 1}}');
SELECT pg_temp.add('{"unique_key": 1}');
SELECT pg_temp.add('{"max_total": "100"}');
SELECT pg_temp.add('{"paging_limit": "50", "paging_offset_request_path": "o", "paging_limit_request_path": "l"}');
SELECT pg_temp.add('{"auto_mapping": "false"}');
SELECT pg_temp.add('{"auto_mapping": 0}');
SELECT pg_temp.add('{"mapped_table": 1}');
SELECT pg_temp.add('{"metadata": "company"}');
SELECT pg_temp.add('{"metadata": {"tags": ["a"]}}');
SELECT pg_temp.add('{"metadata": {"owner": {"id": 1}}}');
SELECT pg_temp.add('{"delete_mode": true, "unique_key": "id"}');
SELECT pg_temp.add('{"frequency": true}');
SELECT pg_temp.add('{"frequency": {"minutes": 5}}');
SELECT pg_temp.add('{"cron": 5}');
SELECT pg_temp.add('{"pizzly_connection_id": 1, "pizzly_provider_config_key": "k"}');
SELECT pg_temp.add('{"incremental_initial_value": {"a": 1}, "incremental_cursor_path": "u", "incremental_request_path": "s", "unique_key": "id"}');
SELECT pg_temp.add('{"incremental_initial_value": true, "incremental_cursor_path": "u", "incremental_request_path": "s", "unique_key": "id"}');
SELECT pg_temp.add('{"friendly_name": 42}');

-- Values that are not allowed.
SELECT pg_temp.add('{"method": "FETCH"}');
SELECT pg_temp.add('{"method": ""}');
SELECT pg_temp.add('{"headers": {"Bad Header": "x"}}');
SELECT pg_temp.add('{"headers": {"": "x"}}');
SELECT pg_temp.add('{"headers": {"X-Injected": "a\r\nHost: evil"}}');
SELECT pg_temp.add('{"query_params": {"": "x"}}');
SELECT pg_temp.add('{"timeout": 0}');
SELECT pg_temp.add('{"timeout": -1}');
SELECT pg_temp.add('{"timeout": 86401}');
SELECT pg_temp.add('{"timeout": "soon"}');
SELECT pg_temp.add('{"retries": -1}');
SELECT pg_temp.add('{"retries": 1.5}');
SELECT pg_temp.add('{"retries": 101}');
SELECT pg_temp.add('{"response_path": ""}');
SELECT pg_temp.add('{"response_path": "data..results"}');
SELECT pg_temp.add('{"unique_key": ".id"}');
SELECT pg_temp.add('{"max_total": 0}');
SELECT pg_temp.add('{"max_total": -5}');
SELECT pg_temp.add('{"max_total": 2.5}');
SELECT pg_temp.add('{"max_total": 1e300}');
SELECT pg_temp.add('{"paging_limit": 0, "paging_offset_request_path": "o", "paging_limit_request_path": "l"}');
SELECT pg_temp.add('{"paging_number_request_path": "page", "paging_number_start": -1}');
SELECT pg_temp.add('{"paging_header_link_rel": ""}');
SELECT pg_temp.add('{"metadata": {"": 1}}');
SELECT pg_temp.add('{"metadata": {"a": null}}');
SELECT pg_temp.add('{"delete_mode": "archive", "unique_key": "id"}');
SELECT pg_temp.add('{"pizzly_connection_id": "", "pizzly_provider_config_key": "k"}');

-- frequency: a number of minutes or an interval, at least 1 second.
SELECT pg_temp.add('{"frequency": 0}');
SELECT pg_temp.add('{"frequency": -15}');
SELECT pg_temp.add('{"frequency": 0.01}');
SELECT pg_temp.add('{"frequency": "0"}');
SELECT pg_temp.add('{"frequency": "0.5 seconds"}');
SELECT pg_temp.add('{"frequency": "-1 hour"}');
SELECT pg_temp.add('{"frequency": "1 hour -1 hour"}');
SELECT pg_temp.add('{"frequency": "soon"}');
SELECT pg_temp.add('{"frequency": ""}');
SELECT pg_temp.add('{"frequency": "infinity"}');
SELECT pg_temp.add('{"frequency": "0x10"}');
SELECT pg_temp.add('{"frequency": 1e9}');
SELECT pg_temp.add('{"frequency": "200 years"}');
SELECT pg_temp.add('{"frequency": "6000 weeks"}');

-- body: sent with POST, PUT and PATCH only.
SELECT pg_temp.add('{"body": {"q": 1}}');
SELECT pg_temp.add('{"body": {"q": 1}, "method": "delete"}');

-- cron: five valid fields.
SELECT pg_temp.add('{"cron": ""}');
SELECT pg_temp.add('{"cron": "* * * *"}');
SELECT pg_temp.add('{"cron": "* * * * * *"}');
SELECT pg_temp.add('{"cron": "60 * * * *"}');
SELECT pg_temp.add('{"cron": "* 24 * * *"}');
SELECT pg_temp.add('{"cron": "* * 0 * *"}');
SELECT pg_temp.add('{"cron": "* * * 13 *"}');
SELECT pg_temp.add('{"cron": "* * * * 8"}');
SELECT pg_temp.add('{"cron": "*/0 * * * *"}');
SELECT pg_temp.add('{"cron": "5-1 * * * *"}');
SELECT pg_temp.add('{"cron": "1,,2 * * * *"}');
SELECT pg_temp.add('{"cron": "? * * * *"}');
SELECT pg_temp.add('{"cron": "* * * FOO *"}');
SELECT pg_temp.add('{"cron": "0 0 30 2 *"}');
SELECT pg_temp.add('{"cron": "@reboot"}');
SELECT pg_temp.add('{"cron": "every day"}');

-- Refused combinations.
SELECT pg_temp.add('{"frequency": 15, "cron": "0 * * * *"}');
SELECT pg_temp.add('{"paging_url_path": "next", "paging_header_link_rel": "next"}');
SELECT pg_temp.add('{"paging_cursor_request_path": "after", "paging_cursor_metadata_response_path": "next", "paging_cursor_object_response_path": "id"}');
SELECT pg_temp.add('{"paging_cursor_metadata_response_path": "paging.next"}');
SELECT pg_temp.add('{"paging_cursor_object_response_path": "id"}');
SELECT pg_temp.add('{"paging_cursor_request_path": "after"}');
SELECT pg_temp.add('{"paging_cursor_request_path": "after", "paging_url_path": "next"}');
SELECT pg_temp.add('{"paging_offset_request_path": "offset"}');
SELECT pg_temp.add('{"paging_offset_request_path": "offset", "paging_limit_request_path": "limit"}');
SELECT pg_temp.add('{"paging_limit_request_path": "limit", "paging_limit": 10}');
SELECT pg_temp.add('{"paging_limit": 10}');
SELECT pg_temp.add('{"paging_number_request_path": "page", "paging_limit": 10}');
SELECT pg_temp.add('{"paging_number_start": 0}');
SELECT pg_temp.add('{"paging_number_request_path": "page", "paging_offset_request_path": "offset", "paging_limit_request_path": "l", "paging_limit": 1}');
SELECT pg_temp.add('{"paging_number_request_path": "page", "paging_url_path": "next"}');
SELECT pg_temp.add('{"pizzly_connection_id": "user1"}');
SELECT pg_temp.add('{"pizzly_provider_config_key": "hubspot"}');
SELECT pg_temp.add('{"nango_connection_id": "user1"}');
SELECT pg_temp.add('{"pizzly_connection_id": "a", "nango_connection_id": "b", "pizzly_provider_config_key": "k"}');
SELECT pg_temp.add('{"pizzly_connection_id": "a", "pizzly_provider_config_key": "k", "nango_provider_config_key": "k"}');
SELECT pg_temp.add('{"incremental_cursor_path": "updated_at", "incremental_request_path": "since"}');
SELECT pg_temp.add('{"incremental_cursor_path": "updated_at", "unique_key": "id"}');
SELECT pg_temp.add('{"incremental_request_path": "since", "unique_key": "id"}');
SELECT pg_temp.add('{"incremental_initial_value": "2024-01-01", "unique_key": "id"}');
SELECT pg_temp.add('{"delete_mode": "soft"}');
SELECT pg_temp.add('{"delete_mode": "hard"}');

-- mapped_table: a valid [schema.]table name, not one of nango's own tables.
SELECT pg_temp.add('{"mapped_table": ""}');
SELECT pg_temp.add('{"mapped_table": "a.b.c"}');
SELECT pg_temp.add('{"mapped_table": "a."}');
SELECT pg_temp.add('{"mapped_table": ".a"}');
SELECT pg_temp.add('{"mapped_table": "\"unclosed"}');
SELECT pg_temp.add('{"mapped_table": "\"\""}');
SELECT pg_temp.add('{"mapped_table": "my table"}');
SELECT pg_temp.add('{"mapped_table": "1table"}');
SELECT pg_temp.add('{"mapped_table": "items; DROP TABLE nango.syncs"}');
SELECT pg_temp.add('{"mapped_table": "\"a\"b"}');
SELECT pg_temp.add('{"mapped_table": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}');
SELECT pg_temp.add('{"mapped_table": "public.\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\""}');
SELECT pg_temp.add('{"mapped_table": "syncs"}');
SELECT pg_temp.add('{"mapped_table": "nango.jobs"}');
SELECT pg_temp.add('{"mapped_table": "NANGO.RAW"}');
SELECT pg_temp.add('{"mapped_table": "\"nango\".\"_nango_syncs\""}');
SELECT pg_temp.add('{"mapped_table": "_nango_jobs"}');
SELECT pg_temp.add('{"mapped_table": "nango._nango_raw"}');
SELECT pg_temp.add('{"mapped_table": "nango.syncs_id_seq"}');
SELECT pg_temp.add('{"mapped_table": "pg_catalog.pg_class"}');
SELECT pg_temp.add('{"mapped_table": "pg_toast.items"}');
SELECT pg_temp.add('{"mapped_table": "information_schema.items"}');

-- The same checks apply when called directly (not through pg_temp.add).
SELECT nango.add_sync('https://api.example.com/items', '{"frequncy": 15}');
SELECT nango.add_sync(NULL);

-- Nothing was stored.
SELECT count(*) FROM nango.syncs;
ROLLBACK;
