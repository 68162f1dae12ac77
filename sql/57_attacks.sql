-- Attacks of a plain role (mallory) on another plain role (alice) and on
-- a superuser, through nango's SQL entry points (docs/security.md).
--   1. a mapped_table (in schema nango) that alice's sync names but that does not exist yet
--      (her sync has not run): mallory may not claim it, else her job
--      would create it first, as hers, and alice's jobs would then fail;
--   2. owner code run by a superuser's run_sync or delete_sync(id, true)
--      may not create functions, operators or collations in the caller's
--      temporary schema (PostgreSQL itself refuses only tables and types);
--   3. preview and the name forms resolve secrets, Pizzly grants and
--      names from the caller's own: alice's are out of mallory's reach.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS nango CASCADE;
DROP SCHEMA IF EXISTS nango CASCADE; -- and the mapped tables left: ids start at 1
DROP SCHEMA IF EXISTS atk_mal CASCADE;
DROP ROLE IF EXISTS nango_test_atk_alice;
DROP ROLE IF EXISTS nango_test_atk_mallory;
RESET client_min_messages;
CREATE EXTENSION nango;
\set VERBOSITY terse
CREATE ROLE nango_test_atk_alice;
CREATE ROLE nango_test_atk_mallory;
CREATE SCHEMA atk_mal AUTHORIZATION nango_test_atk_mallory;
CREATE FUNCTION mock(path text) RETURNS text LANGUAGE sql
  AS $$ SELECT current_setting('nango_test.mock_url') || path $$;

-- 1. Claiming the table of another role's sync before it exists.
SET ROLE nango_test_atk_alice;
SELECT nango.set_secret('tok', 'ALICE-SECRET-57') IS NULL AS set;
SELECT nango.put_sync('contacts', mock('/simple/items'),
                      '{"response_path": "data", "mapped_table": "atk_contacts"}') > 0 AS added;
SET ROLE nango_test_atk_mallory;
-- refused, unqualified and qualified, whatever the spelling of the name
SELECT nango.add_sync(mock('/simple/items'), '{"response_path": "data", "mapped_table": "atk_contacts"}');
SELECT nango.add_sync(mock('/simple/items'), '{"response_path": "data", "mapped_table": "nango.\"atk_contacts\""}');
SELECT nango.put_sync('grab', mock('/simple/items'), '{"response_path": "data", "mapped_table": "ATK_CONTACTS"}');
-- nor through update_sync of a sync of her own
SELECT nango.add_sync(mock('/simple/items'), '{"response_path": "data", "mapped_table": "atk_mine", "friendly_name": "mine"}') > 0 AS added;
SELECT nango.update_sync('mine', '{"mapped_table": "atk_contacts"}');
-- a name of her own still works; alice's sync runs and owns its table
RESET ROLE;
SELECT s.mapped_table, s.owner FROM nango.syncs s ORDER BY s.id;
SET ROLE nango_test_atk_alice;
SELECT nango.run_sync('contacts') AS alice_job \gset
SELECT status FROM nango.jobs WHERE id = :alice_job;
SELECT relowner::regrole AS table_owner FROM pg_class WHERE oid = 'nango.atk_contacts'::regclass;
RESET ROLE;

-- 2. Owner code and the caller's temporary schema.
CREATE TEMP TABLE su_scratch (x int);   -- the caller's session has a temporary schema
SET ROLE nango_test_atk_mallory;
CREATE TABLE atk_mal.fired (what text);
GRANT USAGE ON SCHEMA atk_mal TO PUBLIC;
GRANT INSERT, SELECT ON atk_mal.fired TO PUBLIC;
CREATE FUNCTION atk_mal.t() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  BEGIN EXECUTE 'CREATE FUNCTION pg_temp.f() RETURNS int LANGUAGE sql AS ''SELECT 57''';
  EXCEPTION WHEN others THEN INSERT INTO atk_mal.fired VALUES ('function: ' || sqlerrm); END;
  BEGIN EXECUTE 'CREATE OPERATOR pg_temp.=== (function = int4eq, leftarg = int, rightarg = int)';
  EXCEPTION WHEN others THEN INSERT INTO atk_mal.fired VALUES ('operator: ' || sqlerrm); END;
  BEGIN EXECUTE 'CREATE COLLATION pg_temp.c57 FROM "C"';
  EXCEPTION WHEN others THEN INSERT INTO atk_mal.fired VALUES ('collation: ' || sqlerrm); END;
  -- what is not temporary is the owner's business
  BEGIN EXECUTE 'CREATE FUNCTION atk_mal.g() RETURNS int LANGUAGE sql AS ''SELECT 1''';
        INSERT INTO atk_mal.fired VALUES ('own function created');
  EXCEPTION WHEN others THEN NULL; END;
  RETURN NULL;
END $$;
SELECT nango.add_sync(mock('/simple/items'), '{"response_path": "data", "mapped_table": "atk_mal.items", "friendly_name": "items"}') AS items \gset
SELECT nango.add_sync(mock('/simple/items'), '{"response_path": "data", "mapped_table": "atk_mal.items"}') AS items2 \gset
SELECT nango.run_sync(:items) > 0 AS ran, nango.run_sync(:items2) > 0 AS ran;
CREATE TRIGGER t AFTER INSERT OR DELETE ON atk_mal.items FOR EACH ROW EXECUTE FUNCTION atk_mal.t();
RESET ROLE;
SELECT nango.run_sync(:items) > 0 AS ran;
SELECT status FROM nango.jobs WHERE sync_id = :items ORDER BY id DESC LIMIT 1;
SELECT what, count(*) FROM atk_mal.fired GROUP BY 1 ORDER BY 1;
SELECT count(*) AS temp_objects FROM pg_proc WHERE pronamespace = pg_my_temp_schema();
SELECT count(*) AS temp_objects FROM pg_operator WHERE oprnamespace = pg_my_temp_schema();
SELECT count(*) AS temp_objects FROM pg_collation WHERE collnamespace = pg_my_temp_schema();
TRUNCATE atk_mal.fired;
DROP FUNCTION atk_mal.g();
SELECT nango.delete_sync(:items, true);
SELECT what, count(*) FROM atk_mal.fired GROUP BY 1 ORDER BY 1;
SELECT count(*) AS temp_objects FROM pg_proc WHERE pronamespace = pg_my_temp_schema();
-- the owner's own run is not restricted: her code may do what she may
SET ROLE nango_test_atk_mallory;
TRUNCATE atk_mal.fired;
DROP FUNCTION IF EXISTS atk_mal.g();
SELECT nango.run_sync(:items2) > 0 AS ran;
SELECT what, count(*) > 0 AS fired FROM atk_mal.fired WHERE what = 'own function created' GROUP BY 1;
RESET ROLE;
DISCARD TEMP;

-- 3. Preview, names and ids of another role's sync.
SELECT id AS alice_sync FROM nango.syncs WHERE friendly_name = 'contacts' \gset
SELECT set_config('nango.pizzly_base_url', mock('/pizzly'), false) IS NOT NULL AS set;
SELECT nango.grant_connection('github', 'alice-conn', 'nango_test_atk_alice');
SET ROLE nango_test_atk_mallory;
-- alice's secret is not mallory's: preview and add_sync say she has none
SELECT page FROM nango.preview(mock('/secrets/echo?x=${secret:tok}'), '{"response_path": "data"}');
SELECT page FROM nango.preview(mock('/secrets/echo'), '{"response_path": "data", "headers": {"X-Key": "${secret:tok}"}}');
-- alice's Pizzly connection is not granted to mallory
SELECT page FROM nango.preview(mock('/secrets/echo'),
  '{"response_path": "data", "pizzly_connection_id": "alice-conn", "pizzly_provider_config_key": "github"}');
SELECT page FROM nango.preview(mock('/secrets/echo'),
  '{"response_path": "data", "nango_connection_id": "alice-conn", "nango_provider_config_key": "github"}');
SELECT page FROM nango.preview(mock('/secrets/echo'),
  '{"response_path": "data", "pizzly_connection_id": "ALICE-CONN", "pizzly_provider_config_key": "GitHub"}');
-- names are the caller's own; an id is checked as an id
SELECT nango.run_sync('contacts');
SELECT nango.run_sync(:'alice_sync'::text);
SELECT nango.update_sync(:'alice_sync'::text, '{"url": null}');
SELECT nango.delete_sync(:'alice_sync'::text, true);
-- put_sync of alice's name makes a sync of mallory's, alice's is untouched
SELECT nango.put_sync('contacts', mock('/secrets/echo'), '{"response_path": "data", "mapped_table": "atk_mal.c"}') <> :alice_sync AS another;
SELECT nango.cancel_job(:alice_job);
SELECT count(*) AS visible_secrets FROM nango.secrets;
SELECT value FROM nango.secret_values;
RESET ROLE;
SELECT s.owner, s.config FROM nango.syncs s WHERE s.friendly_name = 'contacts' ORDER BY s.id;
RESET nango.pizzly_base_url;

SET client_min_messages = warning;
DROP EXTENSION nango CASCADE;
DROP SCHEMA atk_mal CASCADE;
DROP FUNCTION mock(text);
DROP ROLE nango_test_atk_alice;
DROP ROLE nango_test_atk_mallory;
