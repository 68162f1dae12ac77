-- Credential scope: the sync's headers and the Pizzly token go only to the
-- origin of the sync's URL (here http://127.0.0.1:<port>) and to the hosts of
-- its credential_hosts.  A next URL, a Link or a redirect to another origin
-- (http://localhost:<port>, the same mock under another name) is requested
-- without them, and a later request back on the origin carries them again.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS nango CASCADE;
RESET client_min_messages;
CREATE EXTENSION nango;
SET nango.log_level = warning;
\i test/sql/engine_helpers.sql
-- the requests the mock received for a path, oldest first: the host name,
-- the query, and whether each credential header came along
CREATE FUNCTION seen(path text, OUT host text, OUT query text,
  OUT "authorization" boolean, OUT x_api_key boolean, OUT token text)
RETURNS SETOF record LANGUAGE plpgsql AS $$
DECLARE sid bigint;
BEGIN
  sid := add_paused(mock('/__requests?path=' || path), '{"auto_mapping": false}');
  PERFORM nango.run_sync(sid);
  RETURN QUERY SELECT split_part(r.data->'headers'->>'host', ':', 1), r.data->>'query',
      r.data->'headers' ? 'authorization', r.data->'headers' ? 'x-api-key',
      regexp_replace(r.data->'headers'->>'authorization', '_[0-9]+_', '_N_')
    FROM nango.raw r WHERE r.sync_id = sid ORDER BY r.id;
  DELETE FROM nango.syncs WHERE id = sid;
END $$;
CREATE FUNCTION creds() RETURNS jsonb LANGUAGE sql
  AS $$ SELECT '{"response_path": "data", "retries": 0, "headers":
    {"Authorization": "Bearer ya29.S3CRET-token", "X-Api-Key": "xkey-S3CRET"}}'::jsonb $$;

-- 1. A next URL in the body: pages 2 and 4 are on the other origin.
SELECT status, pages, fetched, error FROM sync_once('/scope/pages?page=1&api_key=qk-S3CRET',
  creds() || '{"paging_url_path": "next"}');
SELECT host, query, "authorization", x_api_key FROM seen('/scope/pages');

-- 2. The same with a Link rel="next" header.
SELECT status, pages, fetched, error FROM sync_once('/scope/link?page=1', creds() || '{"paging_header_link_rel": "next"}');
SELECT host, query, "authorization", x_api_key FROM seen('/scope/link');

-- 3. A 302 to another origin: curl alone would have sent X-Api-Key there.
SELECT status, pages, fetched, error FROM sync_once('/scope/redirect', creds());
SELECT host, "authorization", x_api_key FROM seen('/scope/redirect');
SELECT host, "authorization", x_api_key FROM seen('/scope/landing');
-- Redirected away and back again: the hop on the origin carries them again.
SELECT status, pages, fetched, error FROM sync_once('/scope/bounce', creds());
SELECT host, "authorization", x_api_key FROM seen('/scope/bounce');
SELECT host, "authorization", x_api_key FROM seen('/scope/bounce2');
SELECT host, "authorization", x_api_key FROM seen('/scope/landing');

-- 4. credential_hosts lets a named host receive them (any port, or the one
-- named); another port of that host is another origin.
SELECT status, pages, error FROM sync_once('/scope/pages?page=1',
  creds() || '{"paging_url_path": "next", "credential_hosts": ["LocalHost"]}');
SELECT host, "authorization", x_api_key FROM seen('/scope/pages');
SELECT status, pages, error FROM sync_once('/scope/pages?page=1',
  creds() || format('{"paging_url_path": "next", "credential_hosts": ["localhost:%s"]}',
                    split_part(current_setting('nango_test.mock_url'), ':', 3))::jsonb);
SELECT count(*) FILTER (WHERE "authorization") AS with_credentials, count(*) AS requests FROM seen('/scope/pages');
SELECT status, pages, error FROM sync_once('/scope/pages?page=1',
  creds() || '{"paging_url_path": "next", "credential_hosts": ["localhost:1"]}');
SELECT host, "authorization", x_api_key FROM seen('/scope/pages');

-- 5. The Pizzly token follows the same rule.
SELECT set_config('nango.pizzly_base_url', mock('/pizzly'), false) IS NOT NULL AS set;
SELECT status, pages, error FROM sync_once('/scope/pages?page=1',
  '{"response_path": "data", "paging_url_path": "next", "pizzly_connection_id": "ok",
    "pizzly_provider_config_key": "github"}');
SELECT host, token FROM seen('/scope/pages');
-- A body that carries the token is not sent to another origin: the job fails.
SELECT status, pages, regexp_replace(error, 'localhost:[0-9]+', 'localhost:PORT') AS error
  FROM sync_once('/scope/pages?page=1',
  '{"response_path": "data", "paging_url_path": "next", "pizzly_connection_id": "ok",
    "pizzly_provider_config_key": "github", "method": "POST", "body": {"token": "${pizzlyAccessToken}"}}');
SELECT host, query FROM seen('/scope/pages');
RESET nango.pizzly_base_url;

-- 6. credential_hosts is checked: an array of host names, optionally with a port.
SELECT nango.add_sync(mock('/scope/pages'), '{"credential_hosts": "localhost"}');
SELECT nango.add_sync(mock('/scope/pages'), '{"credential_hosts": ["localhost", 8080]}');
SELECT nango.add_sync(mock('/scope/pages'), '{"credential_hosts": [""]}');
SELECT nango.add_sync(mock('/scope/pages'), '{"credential_hosts": ["https://files.example.com"]}');
SELECT nango.add_sync(mock('/scope/pages'), '{"credential_hosts": ["files.example.com/v1"]}');
SELECT nango.add_sync(mock('/scope/pages'), '{"credential_hosts": ["user@files.example.com"]}');
SELECT nango.add_sync(mock('/scope/pages'), '{"credential_hosts": ["*.example.com"]}');
SELECT nango.add_sync(mock('/scope/pages'), '{"credential_hosts": ["files.example.com:"]}');
SELECT nango.add_sync(mock('/scope/pages'), '{"credential_hosts": ["files.example.com:0"]}');
SELECT nango.add_sync(mock('/scope/pages'), '{"credential_hosts": ["files.example.com:70000"]}');
SELECT nango.add_sync(mock('/scope/pages'), '{"credential_hosts": ["files example.com"]}');
SELECT nango.add_sync(mock('/scope/pages'), '{"credential_hosts": ["[::1"]}');
SELECT nango.add_sync(mock('/scope/pages'), '{"credential_hosts": ["-bad.example.com"]}');
SELECT nango.add_sync(mock('/scope/pages'), '{"credential_hosts": ["credential_host"]}') > 0 AS ok;
SELECT nango.add_sync(mock('/scope/pages'),
  '{"credential_hosts": ["files.example.com", "files.example.com:8443", "10.0.0.1", "[::1]:8080", "[fe80::1]"]}') > 0 AS ok;
SELECT nango.add_sync(mock('/scope/pages'), '{"credential_host": ["x.example.com"]}');

DROP EXTENSION nango CASCADE;
DROP FUNCTION seen(text);
DROP FUNCTION creds();
DROP FUNCTION sync_once(text, jsonb);
DROP FUNCTION run_quiet(bigint);
DROP FUNCTION mock_requests(text, text);
DROP FUNCTION unport(text);
DROP FUNCTION mock_get(text);
DROP FUNCTION mock(text);
DROP FUNCTION add_paused(text, jsonb);
