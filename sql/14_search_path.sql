-- A hostile search_path (README.md, issue 2): a schema earlier in the
-- path holds functions, operators and tables named like the ones nango
-- uses.  Every API call still works, and none of the hostile objects runs.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS nango;
RESET client_min_messages;
\set ON_ERROR_ROLLBACK on
\set VERBOSITY default
BEGIN;
CREATE ROLE nango_test_mallory;
CREATE SCHEMA evil AUTHORIZATION nango_test_mallory;
SET ROLE nango_test_mallory;
CREATE TABLE evil.calls (what text);
-- evil.trap(what): records that a hostile object was used.
CREATE FUNCTION evil.trap(what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO evil.calls VALUES (what);
  RAISE NOTICE 'hostile % called', what;
END $$;
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE plpgsql AS
  $$ BEGIN PERFORM evil.trap('now()'); RETURN '2000-01-01'; END $$;
CREATE FUNCTION evil.clock_timestamp() RETURNS timestamptz LANGUAGE plpgsql AS
  $$ BEGIN PERFORM evil.trap('clock_timestamp()'); RETURN '2000-01-01'; END $$;
CREATE FUNCTION evil.pg_has_role(regrole, text) RETURNS boolean LANGUAGE plpgsql AS
  $$ BEGIN PERFORM evil.trap('pg_has_role(regrole, text)'); RETURN true; END $$;
CREATE FUNCTION evil.pg_has_role(oid, text) RETURNS boolean LANGUAGE plpgsql AS
  $$ BEGIN PERFORM evil.trap('pg_has_role(oid, text)'); RETURN true; END $$;
CREATE FUNCTION evil.nextval(regclass) RETURNS bigint LANGUAGE plpgsql AS
  $$ BEGIN PERFORM evil.trap('nextval'); RETURN 1; END $$;
CREATE FUNCTION evil.to_regclass(text) RETURNS regclass LANGUAGE plpgsql AS
  $$ BEGIN PERFORM evil.trap('to_regclass'); RETURN 'pg_class'::regclass; END $$;
CREATE FUNCTION evil.jsonb_concat(jsonb, jsonb) RETURNS jsonb LANGUAGE plpgsql AS
  $$ BEGIN PERFORM evil.trap('jsonb_concat'); RETURN $1; END $$;
CREATE FUNCTION evil.eq(bigint, bigint) RETURNS boolean LANGUAGE plpgsql AS
  $$ BEGIN PERFORM evil.trap('= (bigint, bigint)'); RETURN true; END $$;
CREATE OPERATOR evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.eq);
CREATE FUNCTION evil.ne(bigint, bigint) RETURNS boolean LANGUAGE plpgsql AS
  $$ BEGIN PERFORM evil.trap('<> (bigint, bigint)'); RETURN true; END $$;
CREATE OPERATOR evil.<> (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.ne);
CREATE FUNCTION evil.texteq(text, text) RETURNS boolean LANGUAGE plpgsql AS
  $$ BEGIN PERFORM evil.trap('= (text, text)'); RETURN true; END $$;
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.texteq);
CREATE FUNCTION evil.arrow(jsonb, text) RETURNS jsonb LANGUAGE plpgsql AS
  $$ BEGIN PERFORM evil.trap('-> (jsonb, text)'); RETURN NULL; END $$;
CREATE OPERATOR evil.-> (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = evil.arrow);
CREATE TABLE evil.syncs (id bigint, owner regrole, url text, config jsonb);
CREATE TABLE evil.jobs (id bigint, sync_id bigint);
CREATE TABLE evil.raw (id bigint, sync_id bigint);
CREATE TABLE evil.pg_class (oid oid);
CREATE TABLE evil.pg_attribute (attrelid oid);
-- evil first, pg_catalog after it: evil's functions and operators win over
-- pg_catalog's for any unqualified name.
SET search_path = evil, pg_catalog, public;
SELECT now() = '2000-01-01' AS hostile_now_is_active;
SELECT 1::bigint = 2::bigint AS hostile_equals_is_active;
DELETE FROM evil.calls;

-- Every API call works as usual.
SELECT nango.add_sync('https://api.example.com/items',
  '{"frequency": "5 minutes", "unique_key": "id", "mapped_table": "evil.items",
    "incremental_cursor_path": "u", "incremental_request_path": "since"}') AS id \gset
SELECT count(*) AS syncs FROM nango.syncs;
SELECT nango.update_sync(:id, '{"frequency": 10, "method": "post"}');
SELECT nango.update_sync(:id, '{"incremental_cursor_path": "v"}');
SELECT nango.pause_sync(:id);
SELECT nango.trigger_sync(:id);
SELECT nango.resume_sync(:id);
SELECT pg_catalog.count(*) AS syncs FROM nango.syncs;
SELECT nango.add_sync('https://api.example.com/other', '{"mapped_table": "evil.items"}') AS id2 \gset
CREATE TABLE evil.items (_nango_sync_id bigint, v text);
INSERT INTO evil.items VALUES (:id, 'mine'), (:id2, 'other');
SELECT nango.delete_sync(:id, true);
SELECT v FROM evil.items;
SELECT nango.delete_sync(:id2, true);
SELECT pg_catalog.to_regclass('evil.items') IS NULL AS items_dropped;
SELECT nango.delete_sync(12345);
SELECT nango.cron_next('0 0 * * *', '2024-01-01 12:00:00+00') OPERATOR(pg_catalog.=) '2024-01-02 00:00:00+00' AS cron_ok;
RESET ROLE;

-- The same as a superuser (whose mistakes would be the costliest).
SET search_path = evil, pg_catalog, public;
SELECT nango.add_sync('https://api.example.com/items', '{"cron": "*/5 * * * *"}') AS id3 \gset
SELECT nango.update_sync(:id3, '{"cron": "0 * * * *"}');
SELECT nango.pause_sync(:id3);
SELECT nango.resume_sync(:id3);
SELECT nango.trigger_sync(:id3);
SELECT status, cron, next_run_at OPERATOR(pg_catalog.=) pg_catalog.now() AS due_now
  FROM nango.syncs WHERE id OPERATOR(pg_catalog.=) :id3;
SELECT nango.delete_sync(:id3, true);

-- Re-creating the extension with this search_path is safe too.
DROP EXTENSION nango CASCADE;
CREATE EXTENSION nango;
SELECT nango.add_sync('https://api.example.com/x') AS id4 \gset
SELECT nango.delete_sync(:id4);

-- No hostile object ran.
RESET search_path;
SELECT count(*) AS hostile_calls FROM evil.calls;
ROLLBACK;
