-- Mapped tables: creation, types across pages, widening, mismatches, names,
-- upsert and overwrite, shared tables, metadata, limits.  Pages are written
-- through nango._map_records, which makes the same calls a job makes.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS nango;
RESET client_min_messages;
SET TimeZone = 'UTC';
CREATE FUNCTION pg_temp.cols(t regclass) RETURNS TABLE (col name, type text, comment text)
LANGUAGE sql AS $$
  SELECT attname, pg_catalog.format_type(atttypid, atttypmod), pg_catalog.col_description(attrelid, attnum)
    FROM pg_catalog.pg_attribute WHERE attrelid = t AND attnum > 0 AND NOT attisdropped ORDER BY attnum $$;

-- The seed's num_users example: the column is bigint from the first page, the
-- string on a later page does not fit: NULL there, one mismatch.
SELECT * FROM nango._map_records(901, NULL, NULL, 1,
  ARRAY['{"name": "obj1", "num_users": 23}', '{"name": "obj2", "num_users": 182}']::jsonb[]);
SELECT * FROM nango._map_records(901, NULL, NULL, 1, ARRAY['{"name": "obj3", "num_users": "nango is great"}']::jsonb[]);
SELECT name, num_users FROM nango._nango_sync_901 ORDER BY _nango_id;
SELECT col, type, comment FROM pg_temp.cols('nango._nango_sync_901');
SELECT conname LIKE '%_nango_sync_id%' AS named, pg_get_constraintdef(oid) FROM pg_constraint
 WHERE conrelid = 'nango._nango_sync_901'::regclass ORDER BY contype;

-- The same three records in one page: a mix of number and string gives text.
SELECT * FROM nango._map_records(902, NULL, NULL, 1, ARRAY['{"name": "obj1", "num_users": 23}',
  '{"name": "obj2", "num_users": 182}', '{"name": "obj3", "num_users": "nango is great"}']::jsonb[]);
SELECT col, type FROM pg_temp.cols('nango._nango_sync_902') WHERE col = 'num_users';

-- Mixing within the first page: integers and decimals give numeric, dates and
-- timestamps give timestamptz, other mixes give text; nulls do not count.
SELECT * FROM nango._map_records(903, NULL, NULL, 1, ARRAY[
  '{"n": 1, "d": "2024-01-01", "b": true, "m": 1, "z": null, "ds": "2024-01-01"}',
  '{"n": 2.5, "d": "2024-01-02T03:04:05+02:00", "b": null, "m": "x", "z": null, "ds": "hello"}']::jsonb[]);
SELECT col, type FROM pg_temp.cols('nango._nango_sync_903') WHERE col !~ '^_nango';
SELECT n, d, b, m, ds FROM nango._nango_sync_903 ORDER BY _nango_id;

-- Widening on later pages: bigint -> numeric, date -> timestamptz (midnight UTC).
SELECT * FROM nango._map_records(904, NULL, NULL, 1, ARRAY['{"w": 1, "d": "2024-01-01", "t": "abc", "f": true}']::jsonb[]);
SELECT * FROM nango._map_records(904, NULL, NULL, 1, ARRAY[
  '{"w": 2.50, "d": "2024-01-02T03:04:05.5+02:00", "t": 5, "f": 1}',
  '{"w": 99999999999999999999, "d": "2024-01-03", "t": true, "f": "yes"}',
  '{"w": "7", "d": 20240101, "t": "2024-01-01", "f": false, "new": "on page 2"}']::jsonb[]);
SELECT col, type FROM pg_temp.cols('nango._nango_sync_904') WHERE col !~ '^_nango';
SELECT w, d, t, f, new FROM nango._nango_sync_904 ORDER BY _nango_id;

-- Upsert: the last version of a key wins (also within one page); a field that
-- became null or absent becomes NULL; a soft-deleted key that comes back is live.
SELECT * FROM nango._map_records(905, NULL, NULL, 1,
  ARRAY['{"id": 1, "a": "x", "b": 1}', '{"id": 2, "a": "y", "b": 2}', '{"id": 1, "a": "z", "b": 3}']::jsonb[],
  ARRAY['1', '2', '1']);
SELECT _nango_unique_key, a, b, _nango_job_id FROM nango._nango_sync_905 ORDER BY 1;
UPDATE nango._nango_sync_905 SET _nango_deleted_at = now() WHERE _nango_unique_key = '2';
SELECT * FROM nango._map_records(905, NULL, NULL, 2,
  ARRAY['{"id": 1, "a": null}', '{"id": 2, "a": "y2", "b": 2}']::jsonb[], ARRAY['1', '2']);
SELECT _nango_unique_key, a, b, _nango_job_id, _nango_deleted_at IS NULL AS live FROM nango._nango_sync_905 ORDER BY 1;
-- delete modes: soft marks, hard removes, only this sync's rows
SELECT * FROM nango._map_records(9051, 'nango._nango_sync_905', NULL, 1, ARRAY['{"a": "other"}']::jsonb[], ARRAY['1']);
SELECT nango._map_delete(905, NULL, ARRAY['1'], true);
SELECT _nango_sync_id, _nango_unique_key, a, _nango_deleted_at IS NULL AS live FROM nango._nango_sync_905 ORDER BY 1, 2;
SELECT nango._map_delete(905, NULL, ARRAY['1', '2', 'nope'], false);
SELECT _nango_sync_id, _nango_unique_key, a, _nango_deleted_at IS NULL AS live FROM nango._nango_sync_905 ORDER BY 1, 2;

-- Overwrite: clearing then writing replaces this sync's rows only.
SELECT * FROM nango._map_records(906, 'public.shared_t', NULL, 1, ARRAY['{"v": 1}', '{"v": 2}']::jsonb[]);
SELECT * FROM nango._map_records(907, 'public.shared_t', NULL, 1,
  ARRAY['{"v": 10, "k": "a"}']::jsonb[], ARRAY['a']);
SELECT * FROM nango._map_records(906, 'public.shared_t', NULL, 2, ARRAY['{"v": 3}']::jsonb[], NULL, true);
-- an upsert sync on a table first made by an overwrite sync works (unique constraint)
SELECT * FROM nango._map_records(907, 'public.shared_t', NULL, 2,
  ARRAY['{"v": 11, "k": "a"}', '{"v": 12, "k": "b"}']::jsonb[], ARRAY['a', 'b']);
SELECT _nango_sync_id, _nango_unique_key, v, k, _nango_job_id FROM public.shared_t ORDER BY 1, 3;

-- Metadata: one column per key, named by the key; a data key of the same name
-- gets a suffix; a metadata key with a reserved name is renamed.
SELECT * FROM nango._map_records(908, NULL, '{"company_id": 123, "region": "eu", "_nango_id": "x", "nothing": null}', 1,
  ARRAY['{"company_id": "data", "x": 1}']::jsonb[]);
SELECT col, type, comment FROM pg_temp.cols('nango._nango_sync_908') WHERE col !~ '^_nango';
SELECT company_id, region, __nango_id, x FROM nango._nango_sync_908;

-- Hostile keys are safe and kept as spelled; system names are renamed.
SELECT * FROM nango._map_records(909, NULL, NULL, 1, ARRAY[
  '{"a\"b": 1, "x.y": 2, "with space": 3, "😀": 4, "Robert\"); DROP TABLE nango.syncs; --": 5, "a''b": 6,
    "": 7, "_nango_id": 8, "_nango_sync_id": 9, "ctid": 10, "xmin": 11, "tableoid": 12,
    "a_b": 13, "a": {"b": 14}, "x as y": 15, "SELECT": 16}']::jsonb[]);
SELECT col, type, comment FROM pg_temp.cols('nango._nango_sync_909') WHERE col !~ '^_nango_' ORDER BY col COLLATE "C";
SELECT "a""b", "x.y", "with space", "😀", "Robert""); DROP TABLE nango.syncs; --", "a'b", "_", "__nango_id",
       "__nango_sync_id", _ctid, _xmin, _tableoid, a_b, "x as y", "SELECT", _nango_sync_id
  FROM nango._nango_sync_909;
SELECT count(*) FROM nango.syncs;

-- Names stay stable from run to run, whatever order paths come in.
SELECT * FROM nango._map_records(910, NULL, NULL, 1, ARRAY['{"a": {"b": 1}}']::jsonb[]);
SELECT * FROM nango._map_records(910, NULL, NULL, 2, ARRAY['{"a_b": 2, "a": {"b": 3}}']::jsonb[]);
SELECT * FROM nango._map_records(910, NULL, NULL, 3,
  ARRAY[json_build_object(repeat('L', 70), 4, repeat('L', 70) || 'x', 5)::jsonb]);
SELECT * FROM nango._map_records(910, NULL, NULL, 4,
  ARRAY[json_build_object(repeat('L', 70) || 'x', 6, repeat('L', 70), 7, 'a_b', 8, 'a', json_build_object('b', 9))::jsonb]);
SELECT col, comment FROM pg_temp.cols('nango._nango_sync_910') WHERE col !~ '^_nango_';
SELECT to_jsonb(t) - '_nango_id' - '_nango_emitted_at' FROM nango._nango_sync_910 t ORDER BY _nango_id;

-- At most 500 data columns; fields past that stay unmapped (also on later pages).
SELECT * FROM nango._map_records(911, NULL, NULL, 1,
  ARRAY[(SELECT jsonb_object_agg('k' || lpad(i::text, 3, '0'), i) FROM generate_series(1, 600) i)]);
SELECT * FROM nango._map_records(911, NULL, NULL, 2, ARRAY['{"k001": 1, "brand_new": 2}']::jsonb[]);
SELECT count(*) FILTER (WHERE col !~ '^_nango_') AS data_columns, max(col) FILTER (WHERE col ~ '^k') AS last
  FROM pg_temp.cols('nango._nango_sync_911');
SELECT count(*) FROM nango._nango_sync_911;
-- a record of 150000 values (the walk stops after 100000; 500 are mapped)
SELECT * FROM nango._map_records(918, NULL, NULL, 1,
  ARRAY[(SELECT jsonb_build_object('big', jsonb_agg(i)) FROM generate_series(1, 150000) i), '{"big": [7]}']);
SELECT count(*) FILTER (WHERE col !~ '^_nango_') AS data_columns FROM pg_temp.cols('nango._nango_sync_918');
SELECT big_0, big_499 FROM nango._nango_sync_918 ORDER BY _nango_id;

-- A row too big for PostgreSQL is skipped and counted; the others are stored.
SELECT * FROM nango._map_records(912, NULL, NULL, 1, ARRAY[
  '{"id": "small", "v": 1}'::jsonb,
  (SELECT jsonb_object_agg('c' || i, (SELECT string_agg(md5(i::text || '-' || j), '') FROM generate_series(1, 80) j))
     FROM generate_series(1, 450) i) || '{"id": "huge"}',
  '{"id": "small2", "v": 2}'::jsonb]);
SELECT id, v FROM nango._nango_sync_912 ORDER BY _nango_id;
-- a unique key too long for the index is skipped the same way
SELECT * FROM nango._map_records(912, NULL, NULL, 2, ARRAY['{"v": 3}', '{"v": 4}']::jsonb[],
  ARRAY[(SELECT string_agg(md5(j::text), '') FROM generate_series(1, 300) j), 'ok']);
SELECT _nango_unique_key, v FROM nango._nango_sync_912 WHERE _nango_unique_key IS NOT NULL;

-- A page of many rows and columns is one statement, far past 65535 values.
SELECT * FROM nango._map_records(913, NULL, NULL, 1,
  (SELECT array_agg((SELECT jsonb_object_agg('f' || c, r * c) FROM generate_series(1, 100) c)) FROM generate_series(1, 2000) r));
SELECT count(*), sum(f100) FROM nango._nango_sync_913;
-- a page larger than one statement's batch (5000 rows), with one row too big in the last batch
SELECT * FROM nango._map_records(917, NULL, NULL, 1,
  (SELECT array_agg(CASE WHEN r = 12000
                    THEN (SELECT jsonb_object_agg('g' || c, (SELECT string_agg(md5(c::text || '-' || j), '') FROM generate_series(1, 80) j))
                            FROM generate_series(1, 450) c)
                    ELSE jsonb_build_object('f1', r) END ORDER BY r) FROM generate_series(1, 12001) r));
SELECT count(*), sum(f1) FROM nango._nango_sync_917;

-- Schema-qualified mapped_table: a missing schema is created (superuser here).
SELECT * FROM nango._map_records(914, 'mapschema."My Items"', NULL, 1, ARRAY['{"v": 1}']::jsonb[]);
SELECT v FROM mapschema."My Items";
-- an unqualified name lands in schema nango
SELECT * FROM nango._map_records(914, 'plain_items', NULL, 1, ARRAY['{"v": 1}']::jsonb[]);
SELECT v FROM nango.plain_items;
SELECT * FROM nango._map_records(914, 'a.b.c', NULL, 1, ARRAY['{"v": 1}']::jsonb[]);
SELECT * FROM nango._map_records(914, 'nango.syncs', NULL, 1, ARRAY['{"v": 1}']::jsonb[]);
CREATE VIEW public.a_view AS SELECT 1 AS x;
SELECT * FROM nango._map_records(914, 'public.a_view', NULL, 1, ARRAY['{"v": 1}']::jsonb[]);

-- A table the user made: system columns and the unique constraint are added,
-- a column of the same name and a known type is used.
CREATE TABLE public.handmade (email text, score integer);
SELECT * FROM nango._map_records(915, 'public.handmade', NULL, 1,
  ARRAY['{"email": "a@example.com", "score": 5}']::jsonb[], ARRAY['a']);
SELECT col, type, comment FROM pg_temp.cols('public.handmade');
SELECT to_jsonb(h) - '_nango_id' - '_nango_emitted_at' FROM public.handmade h;

-- Ownership: a table in schema nango belongs to the sync's owner; a table
-- elsewhere is created by the owner; nango never writes where the owner could not.
CREATE ROLE nango_map_u1;
CREATE ROLE nango_map_u2;
GRANT EXECUTE ON FUNCTION nango._map_records TO nango_map_u1, nango_map_u2;
SET ROLE nango_map_u1;
SELECT * FROM nango._map_records(916, NULL, NULL, 1, ARRAY['{"v": 1}']::jsonb[]);
SELECT * FROM nango._map_records(916, 'public.u1_items', NULL, 1, ARRAY['{"v": 1}']::jsonb[]);
SELECT * FROM nango._map_records(916, 'u1schema.items', NULL, 1, ARRAY['{"v": 1}']::jsonb[]);
RESET ROLE;
SELECT relname, relowner::regrole FROM pg_class WHERE relname IN ('_nango_sync_916', 'u1_items') ORDER BY 1;
SET ROLE nango_map_u2;
SELECT * FROM nango._map_records(916, 'nango._nango_sync_916', NULL, 1, ARRAY['{"v": 2}']::jsonb[]);
RESET ROLE;
SELECT v FROM nango._nango_sync_916;

-- Dropping a sync's data: its rows go; the table goes with the last sync using it.
SELECT nango._map_drop(907, 'public.shared_t');
SELECT _nango_sync_id, count(*) FROM public.shared_t GROUP BY 1;
SELECT nango._map_drop(906, 'public.shared_t');
SELECT to_regclass('public.shared_t');
SELECT nango._map_drop(901, NULL);
SELECT to_regclass('nango._nango_sync_901');
SELECT nango._map_drop(999, 'public.no_such_table');

-- clean up
DROP TABLE nango._nango_sync_916, public.handmade, mapschema."My Items", nango.plain_items;
DROP VIEW public.a_view;
DROP SCHEMA mapschema;
REVOKE EXECUTE ON FUNCTION nango._map_records FROM nango_map_u1, nango_map_u2;
DROP ROLE nango_map_u1;
DROP ROLE nango_map_u2;
DROP EXTENSION nango CASCADE;
