-- One rule decides, for nango.raw and the mapped tables alike, when a page
-- of new rows goes in without an INSERT statement (directinsert.c): what
-- the statement would do still happens.  On nango.raw: triggers fire,
-- rules apply, a foreign key other than sync_id's is checked, a deferrable
-- unique constraint is checked at commit, column defaults apply.  On a
-- mapped table: row and statement triggers fire, foreign keys out are
-- checked, keys in do not get in the way, deferrable, exclusion, partial
-- and expression unique indexes hold, a partition's constraint holds,
-- column defaults and type modifiers apply.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS nango CASCADE;
DROP FUNCTION IF EXISTS mock(text);
RESET client_min_messages;
CREATE EXTENSION nango;
SET nango.log_level = warning;
SET TimeZone = 'UTC';
\i test/sql/engine_helpers.sql
SELECT mock_get('/__reset');
-- a sync of 7 contacts in 3 pages, upsert mode, not mapped
CREATE FUNCTION contacts() RETURNS bigint LANGUAGE sql AS $$
  SELECT add_paused(mock('/hubspot/crm/v3/objects/contacts'), '{
    "headers": {"authorization": "Bearer hs-secret-token-123"}, "query_params": {"limit": 3}, "paging_cursor_request_path": "after",
    "paging_cursor_metadata_response_path": "paging.next.after",
    "response_path": "results", "unique_key": "id", "auto_mapping": false}') $$;
-- the job's outcome without ids, and the sync's rows
CREATE FUNCTION outcome(sid bigint) RETURNS text LANGUAGE sql AS $$
  SELECT j.status || ' added ' || j.added_count || coalesce(': ' || unport(j.error_message), '')
    FROM nango.jobs j WHERE j.sync_id = sid ORDER BY j.id DESC LIMIT 1 $$;
CREATE FUNCTION raw_keys(sid bigint) RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(string_agg(unique_key, ' ' ORDER BY unique_key), '(none)')
    FROM nango.raw WHERE sync_id = sid $$;

-- nango.raw, plain: every row written
SELECT contacts() AS s \gset
SELECT run_quiet(:s), outcome(:s), raw_keys(:s);

-- nango.raw with a row trigger and a statement trigger: both fire
BEGIN;
CREATE TABLE fired (what text, k text);
CREATE FUNCTION raw_row() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO public.fired VALUES ('row', NEW.unique_key);
     NEW.metadata := '{"set_by": "trigger"}'; RETURN NEW; END $$;
CREATE FUNCTION raw_stmt() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO public.fired VALUES ('statement', NULL); RETURN NULL; END $$;
CREATE TRIGGER raw_row BEFORE INSERT ON nango.raw FOR EACH ROW EXECUTE FUNCTION raw_row();
CREATE TRIGGER raw_stmt AFTER INSERT ON nango.raw FOR EACH STATEMENT EXECUTE FUNCTION raw_stmt();
SELECT contacts() AS s \gset
SELECT run_quiet(:s), outcome(:s), raw_keys(:s);
SELECT what, count(*) FROM fired GROUP BY what ORDER BY what;
SELECT count(*) AS rows_set_by_trigger FROM nango.raw
  WHERE sync_id = :s AND metadata = '{"set_by": "trigger"}';
ROLLBACK;

-- nango.raw with a rule: it applies to every row
BEGIN;
CREATE TABLE ruled (k text);
CREATE RULE raw_also AS ON INSERT TO nango.raw DO ALSO INSERT INTO public.ruled VALUES (NEW.unique_key);
SELECT contacts() AS s \gset
SELECT run_quiet(:s), outcome(:s), raw_keys(:s);
SELECT string_agg(k, ' ' ORDER BY k) AS ruled FROM ruled;
ROLLBACK;

-- nango.raw with a foreign key besides sync_id's: it is checked
BEGIN;
CREATE TABLE known_keys (k text COLLATE "C" PRIMARY KEY);
INSERT INTO known_keys SELECT unique_key FROM nango.raw WHERE sync_id = :s;
DELETE FROM known_keys WHERE k = (SELECT max(k) FROM known_keys);
ALTER TABLE nango.raw ADD CONSTRAINT raw_known FOREIGN KEY (unique_key) REFERENCES known_keys (k) NOT VALID;
SELECT contacts() AS s \gset
SELECT run_quiet(:s), outcome(:s), raw_keys(:s);
ROLLBACK;

-- nango.raw with a deferrable unique constraint: checked at commit
BEGIN;
DELETE FROM nango.raw;
ALTER TABLE nango.raw ADD CONSTRAINT raw_one_per_sync UNIQUE (sync_id) DEFERRABLE INITIALLY DEFERRED;
SELECT contacts() AS s \gset
SELECT run_quiet(:s), outcome(:s);
\set VERBOSITY terse
SET CONSTRAINTS ALL IMMEDIATE;
\set VERBOSITY default
ROLLBACK;

-- nango.raw with other column defaults: they apply, as to the INSERT
BEGIN;
ALTER TABLE nango.raw ALTER COLUMN emitted_at SET DEFAULT '2001-02-03 04:05:06+00';
ALTER TABLE nango.raw ALTER COLUMN deleted_at SET DEFAULT '2002-02-03 04:05:06+00';
SELECT contacts() AS s \gset
SELECT run_quiet(:s), outcome(:s), raw_keys(:s);
SELECT DISTINCT emitted_at, deleted_at FROM nango.raw WHERE sync_id = :s;
ROLLBACK;

-- Mapped tables (nango._map_records writes a page as a job does).
CREATE FUNCTION page(job bigint, VARIADIC vs text[]) RETURNS jsonb[] LANGUAGE sql AS $$
  SELECT array_agg(jsonb_build_object('id', job * 100 + i, 'v', vs[i]) ORDER BY i)
    FROM generate_subscripts(vs, 1) i $$;
CREATE FUNCTION keys(job bigint, n int) RETURNS text[] LANGUAGE sql AS $$
  SELECT array_agg((job * 100 + i)::text ORDER BY i) FROM generate_series(1, n) i $$;
SELECT * FROM nango._map_records(6501, NULL, NULL, 1, page(1, 'a', 'b'), keys(1, 2));
CREATE FUNCTION mapped() RETURNS TABLE (k text, v text) LANGUAGE sql AS
  $$ SELECT _nango_unique_key, v FROM nango._nango_sync_6501 ORDER BY _nango_id $$;

-- row and statement triggers fire; a BEFORE trigger's change is kept
CREATE TABLE map_fired (what text, k text);
CREATE FUNCTION map_row() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO map_fired VALUES ('row', NEW._nango_unique_key);
     NEW.v := upper(NEW.v); RETURN NEW; END $$;
CREATE FUNCTION map_stmt() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO map_fired VALUES (TG_OP || ' statement', NULL); RETURN NULL; END $$;
CREATE TRIGGER map_row BEFORE INSERT ON nango._nango_sync_6501 FOR EACH ROW EXECUTE FUNCTION map_row();
CREATE TRIGGER map_stmt AFTER INSERT OR UPDATE ON nango._nango_sync_6501
  FOR EACH STATEMENT EXECUTE FUNCTION map_stmt();
SELECT * FROM nango._map_records(6501, NULL, NULL, 2, page(2, 'c', 'd'), keys(2, 2));
SELECT * FROM mapped();
SELECT what, count(*) FROM map_fired GROUP BY what ORDER BY what;
DROP TRIGGER map_row ON nango._nango_sync_6501;
DROP TRIGGER map_stmt ON nango._nango_sync_6501;

-- a foreign key out is checked; a foreign key in does not stop new rows
CREATE TABLE allowed (v text PRIMARY KEY);
INSERT INTO allowed VALUES ('e'), ('f');
ALTER TABLE nango._nango_sync_6501 ADD CONSTRAINT v_allowed FOREIGN KEY (v) REFERENCES allowed (v) NOT VALID;
\set VERBOSITY terse
SELECT * FROM nango._map_records(6501, NULL, NULL, 3, page(3, 'e', 'x'), keys(3, 2));
\set VERBOSITY default
SELECT * FROM nango._map_records(6501, NULL, NULL, 4, page(4, 'e', 'f'), keys(4, 2));
ALTER TABLE nango._nango_sync_6501 DROP CONSTRAINT v_allowed;
CREATE TABLE refers (id bigint REFERENCES nango._nango_sync_6501 (_nango_id) ON DELETE CASCADE);
INSERT INTO refers SELECT _nango_id FROM nango._nango_sync_6501;
SELECT * FROM nango._map_records(6501, NULL, NULL, 5, page(5, 'g', 'h'), keys(5, 2));
SELECT * FROM mapped();
DROP TABLE refers;

-- unique constraints and indexes hold: deferrable, exclusion, partial, expression
\set VERBOSITY terse
ALTER TABLE nango._nango_sync_6501 ADD CONSTRAINT v_once UNIQUE (v) DEFERRABLE INITIALLY IMMEDIATE;
SELECT * FROM nango._map_records(6501, NULL, NULL, 6, page(6, 'i', 'i'), keys(6, 2));
ALTER TABLE nango._nango_sync_6501 DROP CONSTRAINT v_once;
ALTER TABLE nango._nango_sync_6501 ADD CONSTRAINT v_excl EXCLUDE USING btree (v WITH =);
SELECT * FROM nango._map_records(6501, NULL, NULL, 7, page(7, 'j', 'j'), keys(7, 2));
ALTER TABLE nango._nango_sync_6501 DROP CONSTRAINT v_excl;
ALTER TABLE nango._nango_sync_6501 ADD CONSTRAINT v_excl_later EXCLUDE USING btree (v WITH =)
  DEFERRABLE INITIALLY IMMEDIATE;
SELECT * FROM nango._map_records(6501, NULL, NULL, 8, page(8, 'k', 'k'), keys(8, 2));
ALTER TABLE nango._nango_sync_6501 DROP CONSTRAINT v_excl_later;
CREATE UNIQUE INDEX v_lower ON nango._nango_sync_6501 (lower(v));
SELECT * FROM nango._map_records(6501, NULL, NULL, 9, page(9, 'm', 'M'), keys(9, 2));
DROP INDEX nango.v_lower;
CREATE UNIQUE INDEX v_partial ON nango._nango_sync_6501 (v) WHERE v <> 'same';
SELECT * FROM nango._map_records(6501, NULL, NULL, 10, page(10, 'same', 'same'), keys(10, 2));
SELECT * FROM nango._map_records(6501, NULL, NULL, 11, page(11, 'l', 'l'), keys(11, 2));
DROP INDEX nango.v_partial;
\set VERBOSITY default
SELECT * FROM mapped();

-- a default of _nango_deleted_at applies, as it would to the INSERT
ALTER TABLE nango._nango_sync_6501 ALTER COLUMN _nango_deleted_at SET DEFAULT '2003-02-03 04:05:06+00';
SELECT * FROM nango._map_records(6501, NULL, NULL, 12, page(12, 'n'), keys(12, 1));
SELECT _nango_unique_key, v, _nango_deleted_at FROM nango._nango_sync_6501 WHERE _nango_job_id = 12;
ALTER TABLE nango._nango_sync_6501 ALTER COLUMN _nango_deleted_at DROP DEFAULT;

-- a mapped table that is a partition: its partition constraint holds
CREATE TABLE by_v (LIKE nango._nango_sync_6501) PARTITION BY LIST (v);
ALTER TABLE by_v ATTACH PARTITION nango._nango_sync_6501
  FOR VALUES IN ('a', 'b', 'C', 'D', 'e', 'f', 'g', 'h', 'same', 'n', 'o');
\set VERBOSITY terse
SELECT * FROM nango._map_records(6501, NULL, NULL, 13, page(13, 'o', 'p'), keys(13, 2));
\set VERBOSITY default
SELECT * FROM nango._map_records(6501, NULL, NULL, 14, page(14, 'o'), keys(14, 1));
ALTER TABLE by_v DETACH PARTITION nango._nango_sync_6501;
DROP TABLE by_v;
-- a type modifier applies, as it would to the INSERT: the time in whole seconds
ALTER TABLE nango._nango_sync_6501 ALTER COLUMN _nango_emitted_at TYPE timestamptz(0);
SELECT * FROM nango._map_records(6501, NULL, NULL, 15, page(15, 'q'), keys(15, 1));
SELECT _nango_unique_key, v, extract(microseconds FROM _nango_emitted_at)::bigint % 1000000 AS micros
  FROM nango._nango_sync_6501 WHERE _nango_job_id = 15;
SELECT * FROM mapped();
SELECT count(*) AS rows, count(DISTINCT _nango_id) AS ids FROM nango._nango_sync_6501;
SELECT nango._map_drop(6501, NULL);
DROP FUNCTION mapped();
DROP FUNCTION page(bigint, text[]);
DROP FUNCTION keys(bigint, int);
DROP TABLE map_fired, allowed;
DROP FUNCTION map_row();
DROP FUNCTION map_stmt();
DROP FUNCTION contacts();
DROP FUNCTION outcome(bigint);
DROP FUNCTION raw_keys(bigint);
DROP FUNCTION sync_once(text, jsonb);
DROP FUNCTION run_quiet(bigint);
DROP FUNCTION mock_requests(text, text);
DROP FUNCTION unport(text);
DROP FUNCTION mock_get(text);
DROP FUNCTION mock(text);
DROP FUNCTION add_paused(text, jsonb);
