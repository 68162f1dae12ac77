-- Pizzly (OAuth through Nango's auth server): the token is fetched before a
-- job, sent as a Bearer header or into the placeholders, fetched again once
-- on a 401, never stored, and every failure of Pizzly is a clear job error.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS nango CASCADE;
RESET client_min_messages;
CREATE EXTENSION nango;
SET nango.log_level = warning;
CREATE FUNCTION mock(path text) RETURNS text LANGUAGE sql
  AS $$ SELECT current_setting('nango_test.mock_url') || path $$;
CREATE FUNCTION unport(t text) RETURNS text LANGUAGE sql
  AS $$ SELECT regexp_replace(t, '127\.0\.0\.1:[0-9]+', 'mock', 'g') $$;
-- the requests the mock received for a path (oldest first), as JSON
CREATE FUNCTION mock_log(path text) RETURNS SETOF jsonb
LANGUAGE plpgsql AS $$
DECLARE sid bigint;
BEGIN
  sid := nango.add_sync(mock('/__requests?path=' || path), '{"auto_mapping": false}');
  PERFORM nango.run_sync(sid);
  RETURN QUERY SELECT r.data FROM nango.raw r WHERE r.sync_id = sid ORDER BY r.id;
  DELETE FROM nango.syncs WHERE id = sid;
END $$;
CREATE FUNCTION mock_reset() RETURNS void LANGUAGE plpgsql AS $$
DECLARE sid bigint;
BEGIN
  sid := nango.add_sync(mock('/__reset'), '{"auto_mapping": false}');
  PERFORM nango.run_sync(sid);
  DELETE FROM nango.syncs WHERE id = sid;
END $$;
-- adds a sync, runs it once, shows the job (WARNINGs hidden: the job row
-- shows the error) and where the API found the token
CREATE FUNCTION pz(url text, config jsonb,
  OUT sync_id bigint, OUT status text, OUT found_in text, OUT error text)
LANGUAGE plpgsql SET client_min_messages = error AS $$
DECLARE jid bigint;
BEGIN
  PERFORM mock_reset();
  sync_id := nango.add_sync(url, '{"auto_mapping": false, "response_path": "data"}'::jsonb || config);
  jid := nango.run_sync(sync_id);
  SELECT j.status, unport(j.error_message) INTO status, error FROM nango.jobs j WHERE j.id = jid;
  SELECT r.data->>'where' INTO found_in FROM nango.raw r WHERE r.sync_id = pz.sync_id;
END $$;
CREATE FUNCTION detail(sid bigint) RETURNS text LANGUAGE sql AS $$
  SELECT unport(error_detail) FROM nango.jobs WHERE sync_id = sid ORDER BY id DESC LIMIT 1 $$;

-- nango.pizzly_base_url unset: the job fails before any request.
SELECT status, error, detail(sync_id) FROM pz(mock('/pizzly/api/items'),
  '{"pizzly_connection_id": "ok", "pizzly_provider_config_key": "github"}');

SELECT set_config('nango.pizzly_base_url', mock('/pizzly/'), false) IS NOT NULL AS set;

-- Bearer header; the Pizzly request names the connection and the key, escaped.
SELECT status, found_in, error FROM pz(mock('/pizzly/api/items'),
  '{"pizzly_connection_id": "ok", "pizzly_provider_config_key": "git hub/1"}');
SELECT data->>'path' AS path, data->>'query' AS query,
       data->'headers' ? 'authorization' AS has_auth
  FROM mock_log('/pizzly/connection/ok') AS r(data);
-- the nango_* aliases
SELECT status, found_in, error FROM pz(mock('/pizzly/api/items'),
  '{"nango_connection_id": "ok", "nango_provider_config_key": "github"}');
-- the config's own Authorization header is replaced by the Bearer header
SELECT status, found_in, error FROM pz(mock('/pizzly/api/items'),
  '{"pizzly_connection_id": "ok", "pizzly_provider_config_key": "github",
    "headers": {"authorization": "Bearer stale-manual-token", "X-Other": "1"}}');
SELECT count(*) AS auth_headers, bool_and(data->'headers'->>'authorization' LIKE 'Bearer pzt_ok_%') AS bearer
  FROM mock_log('/pizzly/api/items') AS r(data);

-- Placeholders instead of the Bearer header: URL query, URL path, header,
-- query_params, body at any depth; both spellings.
SELECT status, found_in, error FROM pz(mock('/pizzly/api/items?access_token=${pizzlyAccessToken}'),
  '{"pizzly_connection_id": "ok", "pizzly_provider_config_key": "github"}');
SELECT status, found_in, error FROM pz(mock('/pizzly/api/p/${nangoAccessToken}/items'),
  '{"pizzly_connection_id": "ok", "pizzly_provider_config_key": "github"}');
SELECT status, found_in, error FROM pz(mock('/pizzly/api/items'),
  '{"pizzly_connection_id": "ok", "pizzly_provider_config_key": "github",
    "headers": {"X-Access-Token": "${pizzlyAccessToken}"}}');
SELECT data->'headers' ? 'authorization' AS has_bearer FROM mock_log('/pizzly/api/items') AS r(data);
SELECT status, found_in, error FROM pz(mock('/pizzly/api/items'),
  '{"pizzly_connection_id": "ok", "pizzly_provider_config_key": "github",
    "query_params": {"token": "${nangoAccessToken}", "limit": 5}}');
SELECT status, found_in, error FROM pz(mock('/pizzly/api/items'),
  '{"pizzly_connection_id": "ok", "pizzly_provider_config_key": "github", "method": "POST",
    "body": {"auth": {"deep": [{"token": "${pizzlyAccessToken}"}]}, "q": 1}}');
SELECT data->>'body' AS body_sent FROM mock_log('/pizzly/api/items') AS r(data);

-- A 401 from the API fetches the token again once and retries once.
SELECT status, found_in, error FROM pz(mock('/pizzly/api/items'),
  '{"pizzly_connection_id": "stale", "pizzly_provider_config_key": "github"}');
SELECT count(*) AS pizzly_requests FROM mock_log('/pizzly/connection/stale') AS r(data);
SELECT count(*) AS api_requests FROM mock_log('/pizzly/api/items') AS r(data);
-- a token the API never accepts: one refresh, then the job fails with the 401
SELECT status, found_in, error FROM pz(mock('/pizzly/api/items'),
  '{"pizzly_connection_id": "revoked", "pizzly_provider_config_key": "github"}');
SELECT count(*) AS pizzly_requests FROM mock_log('/pizzly/connection/revoked') AS r(data);
-- without Pizzly, a 401 is a plain failure (no retry)
SELECT status, error FROM pz(mock('/pizzly/api/items'), '{}');
SELECT count(*) AS api_requests FROM mock_log('/pizzly/api/items') AS r(data);

-- nango.pizzly_secret_key: Basic auth base64("<secret>:").
SELECT status, error FROM pz(mock('/pizzly/api/items'),
  '{"pizzly_connection_id": "basic", "pizzly_provider_config_key": "github"}');
SET nango.pizzly_secret_key = 'pzkey-s3cr3t';
SELECT status, found_in, error FROM pz(mock('/pizzly/api/items'),
  '{"pizzly_connection_id": "basic", "pizzly_provider_config_key": "github"}');
SELECT data->'headers'->>'authorization' AS basic FROM mock_log('/pizzly/connection/basic') AS r(data);

-- Pizzly failures: unknown connection, no token, a token with a line break,
-- slow (timeout), down.
SELECT status, error, detail(sync_id) FROM pz(mock('/pizzly/api/items'),
  '{"pizzly_connection_id": "missing", "pizzly_provider_config_key": "github"}');
SELECT status, error FROM pz(mock('/pizzly/api/items'),
  '{"pizzly_connection_id": "notoken", "pizzly_provider_config_key": "github"}');
SELECT status, error FROM pz(mock('/pizzly/api/items'),
  '{"pizzly_connection_id": "badtoken", "pizzly_provider_config_key": "github"}');
SELECT status, error FROM pz(mock('/pizzly/api/items'),
  '{"pizzly_connection_id": "slow", "pizzly_provider_config_key": "github", "timeout": 1}');
SET nango.pizzly_base_url = 'http://127.0.0.1:9/pizzly';
SELECT status, split_part(error, ': Failed', 1) AS error FROM pz(mock('/pizzly/api/items'),
  '{"pizzly_connection_id": "ok", "pizzly_provider_config_key": "github", "retries": 0}');
SELECT set_config('nango.pizzly_base_url', mock('/pizzly'), false) IS NOT NULL AS set;
-- a connection id cannot leave the /connection/ path
SELECT status, error FROM pz(mock('/pizzly/api/items'),
  '{"pizzly_connection_id": "..", "pizzly_provider_config_key": "github"}');
SELECT data->>'path' AS path FROM mock_log('/pizzly/connection/%252E%252E') AS r(data);

-- The stored config never holds a token; the job rows never show one, nor
-- the secret key or the refresh token.
SELECT count(*) AS configs_with_token FROM nango.syncs WHERE config::text ~ 'pzt_|s3cr3t' OR url ~ 'pzt_';
SELECT count(*) AS jobs_with_secret FROM nango.jobs
 WHERE concat(error_message, error_detail) ~ 'pzt_|s3cr3t|cHprZXk';
SELECT count(*) AS raw_with_token FROM nango.raw WHERE data::text ~ 'pzt_';

-- nango.allow_private_networks does not apply to Pizzly (a superuser set
-- it up): the token is fetched from loopback, the API request is refused.
SET nango.allow_private_networks = off;
SELECT status, error FROM pz(mock('/pizzly/api/items'),
  '{"pizzly_connection_id": "ok", "pizzly_provider_config_key": "github"}');
RESET nango.allow_private_networks;
SELECT count(*) AS pizzly_requests FROM mock_log('/pizzly/connection/ok') AS r(data);

RESET nango.pizzly_secret_key;
RESET nango.pizzly_base_url;
DROP EXTENSION nango CASCADE;
DROP FUNCTION pz(text, jsonb);
DROP FUNCTION detail(bigint);
DROP FUNCTION mock_log(text);
DROP FUNCTION mock_reset();
DROP FUNCTION unport(text);
DROP FUNCTION mock(text);
