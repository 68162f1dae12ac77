-- Owner code never runs with the caller's rights (docs/security.md).
--
-- oi_mallory, a plain role, owns syncs whose mapped tables carry her code:
-- (a) an ordinary trigger that tries what only the caller may do and
--     leaves a temporary view in the caller's session, (b) a deferred
--     constraint trigger, which fires at the caller's commit, (c) a trigger
--     that changes the caller's settings (search_path, work_mem), (d) an
--     index expression (the direct-insert path).  A superuser and
--     oi_member (a member of oi_mallory, who may run her syncs, with a
--     table of its own she cannot read) act on her syncs through every
--     entry point; after each, oi_check() shows that nothing of the
--     caller's session changed and every trap stayed shut.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS nango;
-- job warnings name syncs by id: this file's ids start at 1701
SELECT pg_catalog.setval('nango.syncs_id_seq', 1700) IS NOT NULL;
DROP ROLE IF EXISTS oi_mallory;
DROP ROLE IF EXISTS oi_member;
RESET client_min_messages;
\set VERBOSITY terse
CREATE ROLE oi_mallory LOGIN;
CREATE ROLE oi_member LOGIN IN ROLE oi_mallory;
CREATE SCHEMA oi_priv AUTHORIZATION oi_member;
CREATE TABLE oi_priv.secrets (s text);
INSERT INTO oi_priv.secrets VALUES ('the member''s secret');
ALTER TABLE oi_priv.secrets OWNER TO oi_member;
-- a table sessions read by its unqualified name
CREATE TABLE public.oi_report (x text);
INSERT INTO public.oi_report VALUES ('the real report');
GRANT SELECT ON public.oi_report TO PUBLIC;
CREATE SCHEMA oi_mal AUTHORIZATION oi_mallory;

SET ROLE oi_mallory;
GRANT USAGE ON SCHEMA oi_mal TO PUBLIC;
CREATE TABLE oi_mal.loot (who text, what text);
CREATE TABLE oi_mal.fired (what text, who text);
GRANT SELECT, INSERT ON oi_mal.loot, oi_mal.fired TO PUBLIC;
-- whoever runs it, pwn tries what only a superuser or oi_member may do
CREATE FUNCTION oi_mal.pwn(what text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO oi_mal.fired VALUES (what, current_user);
  BEGIN EXECUTE 'ALTER ROLE oi_mallory SUPERUSER'; EXCEPTION WHEN others THEN NULL; END;
  BEGIN INSERT INTO oi_mal.loot SELECT current_user, s FROM oi_priv.secrets;
  EXCEPTION WHEN others THEN NULL; END;
  RETURN true;
END $$;
-- (c)'s bait: found before pg_catalog.lower once search_path is poisoned
CREATE FUNCTION oi_mal.lower(text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN PERFORM oi_mal.pwn('lower'); RETURN pg_catalog.lower($1); END $$;
-- (a)
CREATE FUNCTION oi_mal.t_plain() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM oi_mal.pwn('plain trigger');
  BEGIN
    EXECUTE 'CREATE OR REPLACE TEMP VIEW oi_report WITH (security_invoker = true) AS '
            'SELECT x FROM public.oi_report WHERE oi_mal.pwn(''temp view'')';
  EXCEPTION WHEN others THEN NULL; END;
  RETURN NULL;
END $$;
-- (b)
CREATE FUNCTION oi_mal.t_defer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM oi_mal.pwn('deferred trigger'); RETURN NULL; END $$;
-- (c)
CREATE FUNCTION oi_mal.t_guc() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_catalog.set_config('search_path', 'oi_mal, pg_catalog, public', false);
  PERFORM pg_catalog.set_config('work_mem', '1234kB', false);
  RETURN NULL;
END $$;
-- (d)
CREATE FUNCTION oi_mal.idx(text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  PERFORM pg_catalog.set_config('search_path', 'oi_mal, pg_catalog, public', false);
  RETURN $1;
END $$;

SELECT nango.add_sync(current_setting('nango_test.mock_url') || '/simple/items',
                      '{"response_path": "data", "mapped_table": "oi_mal.t_plain", "friendly_name": "plain"}') AS plain \gset
SELECT nango.add_sync(current_setting('nango_test.mock_url') || '/simple/items',
                      '{"response_path": "data", "mapped_table": "oi_mal.t_defer", "friendly_name": "defer"}') AS defer \gset
SELECT nango.add_sync(current_setting('nango_test.mock_url') || '/simple/items',
                      '{"response_path": "data", "mapped_table": "oi_mal.t_guc", "friendly_name": "guc"}') AS guc \gset
-- her own runs create the tables; then she adds her code
SELECT nango.run_sync(:plain) > 0 AS ran, nango.run_sync(:defer) > 0 AS ran, nango.run_sync(:guc) > 0 AS ran;
CREATE TRIGGER t AFTER INSERT OR DELETE ON oi_mal.t_plain FOR EACH ROW EXECUTE FUNCTION oi_mal.t_plain();
CREATE CONSTRAINT TRIGGER t AFTER INSERT OR DELETE ON oi_mal.t_defer
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION oi_mal.t_defer();
CREATE TRIGGER t AFTER INSERT OR DELETE ON oi_mal.t_guc FOR EACH ROW EXECUTE FUNCTION oi_mal.t_guc();
SELECT nango.add_sync(current_setting('nango_test.mock_url') || '/simple/items',
                      '{"response_path": "data", "mapped_table": "oi_mal.t_imm", "friendly_name": "immediate"}') AS imm \gset
SELECT nango.run_sync(:imm) > 0 AS ran;
CREATE CONSTRAINT TRIGGER t AFTER INSERT OR DELETE ON oi_mal.t_imm
  DEFERRABLE INITIALLY IMMEDIATE FOR EACH ROW EXECUTE FUNCTION oi_mal.t_defer();
-- a second sync on each table: delete_sync(id, true) of the first deletes
-- its rows one by one and keeps the table (a table that goes is dropped
-- at once, and no row trigger fires)
SELECT count(nango.add_sync(current_setting('nango_test.mock_url') || '/simple/items',
                            jsonb_build_object('response_path', 'data', 'mapped_table', t)))
  FROM unnest(ARRAY['oi_mal.t_plain', 'oi_mal.t_defer', 'oi_mal.t_guc']) AS t;
-- (d): a table with an index expression, written the first time by another role
CREATE TABLE oi_mal.t_index (_nango_unique_key text);
CREATE INDEX ON oi_mal.t_index (oi_mal.idx(_nango_unique_key));
SELECT nango.add_sync(current_setting('nango_test.mock_url') || '/simple/items',
                      '{"response_path": "data", "unique_key": "id", "mapped_table": "oi_mal.t_index", "friendly_name": "index"}') AS idx \gset

-- The owner's own run is not affected: her deferred trigger fires at her commit.
SELECT nango.run_sync(:defer) > 0 AS ran;
SELECT what, who, count(*) FROM oi_mal.fired GROUP BY 1, 2 ORDER BY 1, 2;
RESET ROLE;
SELECT status, count(*) FROM nango.jobs WHERE sync_id IN (:plain, :defer, :guc) GROUP BY 1;

-- What a session does next, by unqualified names: each one a trap if owner
-- code changed the session.
CREATE FUNCTION public.oi_check(OUT mallory_super boolean, OUT path text, OUT mem text,
                                OUT temp_objects bigint, OUT report text, OUT loot bigint)
LANGUAGE plpgsql AS $$
BEGIN
  path := pg_catalog.current_setting('search_path');
  mem := pg_catalog.current_setting('work_mem');
  temp_objects := (SELECT pg_catalog.count(*) FROM pg_catalog.pg_class
                   WHERE relnamespace OPERATOR(pg_catalog.=) pg_catalog.pg_my_temp_schema());
  EXECUTE 'SELECT string_agg(x, '','') FROM oi_report' INTO report;
  EXECUTE 'SELECT lower(''ABC'')';
  mallory_super := (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'oi_mallory');
  loot := (SELECT pg_catalog.count(*) FROM oi_mal.loot);
END $$;
GRANT EXECUTE ON FUNCTION public.oi_check() TO PUBLIC;
SELECT * FROM public.oi_check();
-- puts the session and oi_mallory back as they were, should a trap have worked
\set oi_reset 'RESET ROLE; ALTER ROLE oi_mallory NOSUPERUSER; RESET search_path; RESET work_mem; DISCARD TEMP; TRUNCATE oi_mal.loot;'

-- 1. A superuser's run_sync.
SELECT nango.run_sync(:plain) > 0 AS ran;
SELECT * FROM public.oi_check();
:oi_reset
SELECT nango.run_sync(:guc) > 0 AS ran;
SELECT * FROM public.oi_check();
:oi_reset
SELECT nango.run_sync(:idx) > 0 AS ran;
SELECT * FROM public.oi_check();
:oi_reset
SELECT nango.run_sync(:defer) > 0 AS ran;
SELECT * FROM public.oi_check();
:oi_reset
SELECT status, error_message FROM nango.jobs WHERE sync_id = :defer ORDER BY id DESC LIMIT 1;
-- a DEFERRABLE INITIALLY IMMEDIATE trigger deferred by the caller's SET
-- CONSTRAINTS: PostgreSQL's own refusal stops it
BEGIN;
SET CONSTRAINTS ALL DEFERRED;
SELECT nango.run_sync(:imm) > 0 AS ran;
COMMIT;
SELECT * FROM public.oi_check();
:oi_reset

-- 2. A member of the owner role: run_sync.
SET ROLE oi_member;
SELECT nango.run_sync(:plain) > 0 AS ran;
SELECT * FROM public.oi_check();
SELECT nango.run_sync(:guc) > 0 AS ran;
SELECT * FROM public.oi_check();
SELECT nango.run_sync(:defer) > 0 AS ran;
SELECT * FROM public.oi_check();
:oi_reset

-- 3. update_sync, pause_sync, resume_sync, trigger_sync touch nothing of the owner's.
SELECT nango.update_sync(:guc, '{"frequency": "2 hours"}');
SELECT nango.pause_sync(:guc), nango.resume_sync(:guc), nango.trigger_sync(:guc);
SELECT * FROM public.oi_check();
SET ROLE oi_member;
SELECT nango.update_sync(:plain, '{"frequency": "2 hours"}');
SELECT nango.pause_sync(:plain), nango.resume_sync(:plain), nango.trigger_sync(:plain);
SELECT * FROM public.oi_check();
:oi_reset

-- 4. delete_sync(id, true): the rows' AFTER DELETE triggers.
SET ROLE oi_member;
SELECT nango.delete_sync(:plain, true);
SELECT * FROM public.oi_check();
:oi_reset
SELECT nango.delete_sync(:guc, true);
SELECT * FROM public.oi_check();
:oi_reset
\set VERBOSITY default
SELECT nango.delete_sync(:defer, true);
\set VERBOSITY terse
SELECT * FROM public.oi_check();
:oi_reset
SELECT count(*) AS defer_sync_kept FROM nango.syncs WHERE id = :defer;
-- its owner deletes it; her deferred trigger fires at her commit
SET ROLE oi_mallory;
SELECT count(*) AS fired_before FROM oi_mal.fired WHERE what = 'deferred trigger' \gset
SELECT nango.delete_sync(:defer, true);
SELECT count(*) - :fired_before AS fired_at_her_commit FROM oi_mal.fired WHERE what = 'deferred trigger';
RESET ROLE;

-- What ran, as whom: only ever oi_mallory.
SELECT what, who FROM oi_mal.fired GROUP BY 1, 2 ORDER BY 1, 2;

-- clean up
SELECT nango.delete_sync(id, true) FROM nango.syncs WHERE owner = 'oi_mallory'::regrole;
DROP FUNCTION public.oi_check();
DROP TABLE public.oi_report;
DROP SCHEMA oi_mal CASCADE;
DROP SCHEMA oi_priv CASCADE;
DROP ROLE oi_member;
DROP ROLE oi_mallory;
