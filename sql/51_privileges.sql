-- Privileges, with an attacker's eyes: no SECURITY DEFINER, row-level
-- security on every table, no write path to nango's tables but the API,
-- run_sync only by the owner (or a member, or a superuser), identity
-- restored after a job (also a failed one), a hostile search_path during
-- run_sync, settings only a superuser may change, a sync whose owner lost
-- rights or was dropped.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS nango CASCADE;
DROP SCHEMA IF EXISTS nango CASCADE; -- and the mapped tables left: ids start at 1
RESET client_min_messages;
CREATE EXTENSION nango;
SET nango.log_level = warning;
\set VERBOSITY terse
CREATE FUNCTION mock(path text) RETURNS text LANGUAGE sql
  AS $$ SELECT current_setting('nango_test.mock_url') || path $$;
CREATE ROLE nango_sec_alice;
CREATE ROLE nango_sec_bob;
CREATE ROLE nango_sec_carol IN ROLE nango_sec_alice;
GRANT EXECUTE ON FUNCTION mock(text) TO PUBLIC;

-- Every function of the extension: none is SECURITY DEFINER or sets a
-- search_path of its own (nothing to pin: none runs as another role).
SELECT count(*) AS secdef_functions FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'nango')
   AND (p.prosecdef OR p.proconfig IS NOT NULL);
-- Every table of the extension has row-level security; PUBLIC may only
-- read (tables, views) and never use a sequence.
SELECT c.relname, c.relkind, c.relrowsecurity,
       array(SELECT a.privilege_type FROM aclexplode(c.relacl) a WHERE a.grantee = 0 ORDER BY 1) AS public_privileges
  FROM pg_class c
  JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'nango')
 ORDER BY c.relname;
-- every function PUBLIC may execute
SELECT p.oid::regprocedure AS public_function FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'nango')
   AND has_function_privilege('nango_sec_bob', p.oid, 'EXECUTE')
 ORDER BY p.oid::regprocedure::text;

-- Alice's sync; a job of hers writes nango's tables as the extension owner,
-- and afterwards (also after a failed job) she is herself again, without
-- any right on nango's tables.
SET ROLE nango_sec_alice;
SELECT nango.add_sync(mock('/simple/items'), '{"response_path": "data", "auto_mapping": false}') AS a \gset
SELECT nango.add_sync(mock('/faults/status?code=500'), '{"retries": 0, "auto_mapping": false}') AS af \gset
SELECT nango.run_sync(:a) > 0 AS ran;
SELECT current_user;
SET client_min_messages = error;
SELECT nango.run_sync(:af) > 0 AS ran_failed;
RESET client_min_messages;
SELECT current_user;
SELECT count(*) AS raw_rows FROM nango.raw;
INSERT INTO nango.raw (sync_id, data, data_hash) VALUES (:a, '{}', 'h');
UPDATE nango.jobs SET status = 'succeeded';
UPDATE nango.syncs SET owner = 'nango_sec_bob';
-- a sync cannot be given to another owner through the config
SELECT nango.update_sync(:a, '{"owner": "nango_sec_bob"}');
RESET ROLE;

-- Bob cannot run alice's sync, nor read its config; carol (a member of
-- alice) can run it.
SET ROLE nango_sec_bob;
SELECT nango.run_sync(:a);
SELECT count(*) AS visible FROM nango.syncs WHERE id = :a;
SELECT count(*) AS visible_jobs FROM nango.jobs;
SET ROLE nango_sec_carol;
SELECT nango.run_sync(:a) > 0 AS carol_ran;
RESET ROLE;
-- once carol leaves the role, she loses the sync
REVOKE nango_sec_alice FROM nango_sec_carol;
SET ROLE nango_sec_carol;
SELECT nango.run_sync(:a);
SELECT count(*) AS visible FROM nango.syncs;
RESET ROLE;

-- Settings that protect the server: only a superuser may change them.
SET ROLE nango_sec_bob;
SET nango.allow_private_networks = on;
SET nango.pizzly_base_url = 'http://attacker.example.com';
SET nango.pizzly_secret_key = 'x';
SET nango.max_response_size = '1GB';
SET nango.log_level = debug;
SHOW nango.pizzly_secret_key;
SELECT current_setting('nango.pizzly_secret_key');
SELECT set_config('nango.allow_private_networks', 'on', false);
ALTER ROLE nango_sec_bob SET nango.allow_private_networks = on;
SET nango.http_timeout = '5s';
RESET nango.http_timeout;
RESET ROLE;

-- An administrator narrows use: without EXECUTE on run_sync, the owner
-- cannot run her own sync.
REVOKE EXECUTE ON FUNCTION nango.run_sync(bigint) FROM PUBLIC;
SET ROLE nango_sec_alice;
SELECT nango.run_sync(:a);
RESET ROLE;
GRANT EXECUTE ON FUNCTION nango.run_sync(bigint) TO PUBLIC;

-- A hostile search_path while a superuser runs alice's sync: nothing of
-- the attacker's runs.
CREATE SCHEMA nango_sec_evil AUTHORIZATION nango_sec_bob;
SET ROLE nango_sec_bob;
CREATE TABLE nango_sec_evil.calls (what text);
GRANT INSERT ON nango_sec_evil.calls TO PUBLIC;
CREATE FUNCTION nango_sec_evil.trap(what text) RETURNS void LANGUAGE sql
  AS $$ INSERT INTO nango_sec_evil.calls VALUES (what) $$;
CREATE FUNCTION nango_sec_evil.eq(bigint, bigint) RETURNS boolean LANGUAGE sql
  AS $$ SELECT nango_sec_evil.trap('='); SELECT true $$;
CREATE OPERATOR nango_sec_evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = nango_sec_evil.eq);
CREATE FUNCTION nango_sec_evil.clock_timestamp() RETURNS timestamptz LANGUAGE sql
  AS $$ SELECT nango_sec_evil.trap('clock_timestamp'); SELECT now() $$;
CREATE FUNCTION nango_sec_evil.now() RETURNS timestamptz LANGUAGE sql
  AS $$ SELECT nango_sec_evil.trap('now'); SELECT pg_catalog.now() $$;
CREATE FUNCTION nango_sec_evil.md5(text) RETURNS text LANGUAGE sql
  AS $$ SELECT nango_sec_evil.trap('md5'); SELECT 'x' $$;
CREATE TABLE nango_sec_evil.syncs (id bigint, owner regrole, url text, config jsonb);
CREATE TABLE nango_sec_evil.jobs (id bigint);
CREATE TABLE nango_sec_evil.raw (id bigint);
RESET ROLE;
SET search_path = nango_sec_evil, pg_catalog, public;
SELECT nango.run_sync(:a) > 0 AS ran;
RESET search_path;
SELECT count(*) AS hostile_calls FROM nango_sec_evil.calls;
SELECT status, fetched_count FROM nango.jobs WHERE sync_id = :a ORDER BY id DESC LIMIT 1;

-- mapped_table with an attacker's eyes.  Alice's table in her schema:
CREATE SCHEMA nango_sec_alice_s AUTHORIZATION nango_sec_alice;
SET ROLE nango_sec_alice;
CREATE TABLE nango_sec_alice_s.precious (v text);
INSERT INTO nango_sec_alice_s.precious VALUES ('keep me');
RESET ROLE;
-- bob aims his sync at alice's schema: his job fails (he has no rights
-- there), alice's schema is untouched
SET ROLE nango_sec_bob;
SELECT nango.add_sync(mock('/simple/items'),
  '{"response_path": "data", "mapped_table": "nango_sec_alice_s.items"}') AS bm \gset
SET client_min_messages = error;
SELECT nango.run_sync(:bm) AS bm_job \gset
RESET client_min_messages;
RESET ROLE;
SELECT status, error_message FROM nango.jobs WHERE id = :bm_job;
SELECT count(*) AS tables_in_alices_schema FROM pg_class WHERE relnamespace = 'nango_sec_alice_s'::regnamespace;
-- a superuser running bob's sync does not lend bob the superuser's rights
SET client_min_messages = error;
SELECT nango.run_sync(:bm) AS bm_job2 \gset
RESET client_min_messages;
SELECT status, error_message FROM nango.jobs WHERE id = :bm_job2;
-- alice's own sync into her schema; a trigger on its mapped table sees who
-- writes: alice, also when a superuser runs the sync
SET ROLE nango_sec_alice;
SELECT nango.add_sync(mock('/simple/items'),
  '{"response_path": "data", "mapped_table": "nango_sec_alice_s.items"}') AS am \gset
SELECT nango.run_sync(:am) > 0 AS ran;
CREATE TABLE nango_sec_alice_s.writers (who name);
CREATE FUNCTION nango_sec_alice_s.who() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO nango_sec_alice_s.writers VALUES (current_user); RETURN NEW; END $$;
CREATE TRIGGER who BEFORE INSERT OR UPDATE ON nango_sec_alice_s.items
  FOR EACH ROW EXECUTE FUNCTION nango_sec_alice_s.who();
DELETE FROM nango_sec_alice_s.items;
RESET ROLE;
SELECT nango.run_sync(:am) > 0 AS ran_by_superuser;
SELECT DISTINCT who FROM nango_sec_alice_s.writers;
-- alice loses her rights on the table (an administrator moves it away from
-- her): her next job fails, nothing is written
ALTER TABLE nango_sec_alice_s.items OWNER TO postgres;
DELETE FROM nango_sec_alice_s.items;
SET client_min_messages = error;
SELECT nango.run_sync(:am) AS lost_job \gset
RESET client_min_messages;
SELECT status, error_message FROM nango.jobs WHERE id = :lost_job;
SELECT count(*) AS rows_written FROM nango_sec_alice_s.items;
SELECT v FROM nango_sec_alice_s.precious;
DROP SCHEMA nango_sec_alice_s CASCADE;
SELECT nango.delete_sync(:am);
SELECT nango.delete_sync(:bm);

-- The owner is dropped: other roles still read nango's tables, and running
-- the orphaned sync fails its job with a clear message.
DROP ROLE nango_sec_alice;
SET ROLE nango_sec_bob;
SELECT count(*) AS visible FROM nango.syncs;
SELECT count(*) AS visible_jobs FROM nango.jobs;
RESET ROLE;
SET client_min_messages = error;
SELECT nango.run_sync(:a) AS orphan_job \gset
RESET client_min_messages;
SELECT status, regexp_replace(error_message, 'OID [0-9]+', 'OID n') AS error FROM nango.jobs WHERE id = :orphan_job;

DROP EXTENSION nango CASCADE;
DROP SCHEMA nango_sec_evil CASCADE;
DROP FUNCTION mock(text);
DROP ROLE nango_sec_bob;
DROP ROLE nango_sec_carol;
