-- Auto-mapping through real syncs against the mock API (test/mock/mapping.py):
-- the seed's examples, schema evolution across pages and runs, widening,
-- upsert and overwrite, hostile keys, the column cap, a row too big, shared
-- tables, metadata, a schema-qualified mapped_table, auto_mapping false.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS nango;
RESET client_min_messages;
SET TimeZone = 'UTC';

-- adds a sync of a mock route (cursor paging, records at "data"), paused so
-- that only run_sync runs it
CREATE FUNCTION pg_temp.add(path text, extra jsonb DEFAULT '{}') RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE sid bigint;
BEGIN
  sid := nango.add_sync(current_setting('nango_test.mock_url') || path,
    '{"response_path": "data", "paging_cursor_request_path": "cursor",
      "paging_cursor_metadata_response_path": "next", "query_params": {"run": 1}}'::jsonb || extra);
  PERFORM nango.pause_sync(sid);
  RETURN sid;
END $$;
-- runs it and shows the job's outcome
CREATE FUNCTION pg_temp.run(sid bigint) RETURNS TABLE (status text, pages bigint, fetched bigint,
  mismatch bigint, skipped bigint, error text) LANGUAGE plpgsql SET client_min_messages = error AS $$
DECLARE jid bigint;
BEGIN
  jid := nango.run_sync(sid);
  RETURN QUERY SELECT j.status, j.page_count, j.fetched_count, j.mismatch_count, j.skipped_count,
    regexp_replace(j.error_message, '127\.0\.0\.1:[0-9]+', 'mock', 'g') FROM nango.jobs j WHERE j.id = jid;
END $$;
CREATE FUNCTION pg_temp.set_run(sid bigint, run int) RETURNS void LANGUAGE sql AS $$
  SELECT nango.update_sync(sid, jsonb_build_object('query_params', jsonb_build_object('run', run))) $$;
CREATE FUNCTION pg_temp.cols(t regclass) RETURNS TABLE (col name, type text) LANGUAGE sql AS $$
  SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
   WHERE attrelid = t AND attnum > 0 AND NOT attisdropped AND attname !~ '^_nango_' ORDER BY attnum $$;

-- The seed's flattening example.
SELECT pg_temp.add('/mapping/seed') AS sid \gset
SELECT format('nango._nango_sync_%s', :sid) AS tbl \gset
SELECT * FROM pg_temp.run(:sid);
SELECT * FROM pg_temp.cols(:'tbl');
SELECT field, parent_nested, list_0, list_1 FROM :tbl;

-- The seed's num_users example: 23, 182 and NULL, mismatch_count 1.
SELECT pg_temp.add('/mapping/num_users') AS sid \gset
SELECT format('nango._nango_sync_%s', :sid) AS tbl \gset
SELECT * FROM pg_temp.run(:sid);
SELECT name, num_users FROM :tbl ORDER BY name;
SELECT data FROM nango.raw WHERE sync_id = :sid AND data->>'name' = 'obj3';

-- Schema evolution across pages (run 1) and runs (run 2 widens and adds).
SELECT pg_temp.add('/mapping/evolve', '{"unique_key": "id"}') AS sid \gset
SELECT format('nango._nango_sync_%s', :sid) AS tbl \gset
SELECT * FROM pg_temp.run(:sid);
SELECT * FROM pg_temp.cols(:'tbl');
SELECT pg_temp.set_run(:sid, 2);
SELECT * FROM pg_temp.run(:sid);
SELECT * FROM pg_temp.cols(:'tbl');
SELECT id, n, d, s, added_p2_x, added_r2_0, added_r2_1 FROM :tbl ORDER BY id;

-- Upsert: a field that became null or absent becomes NULL.
SELECT pg_temp.add('/mapping/upsert', '{"unique_key": "id"}') AS sid \gset
SELECT format('nango._nango_sync_%s', :sid) AS tbl \gset
SELECT * FROM pg_temp.run(:sid);
SELECT _nango_unique_key, a, b, c_d FROM :tbl ORDER BY 1;
SELECT pg_temp.set_run(:sid, 2);
SELECT * FROM pg_temp.run(:sid);
SELECT _nango_unique_key, a, b, c_d FROM :tbl ORDER BY 1;

-- Overwrite: each run replaces the sync's mapped rows.
SELECT pg_temp.add('/mapping/overwrite') AS sid \gset
SELECT format('nango._nango_sync_%s', :sid) AS tbl \gset
SELECT * FROM pg_temp.run(:sid);
SELECT array_agg(v ORDER BY v) FROM :tbl;
SELECT pg_temp.set_run(:sid, 2);
SELECT * FROM pg_temp.run(:sid);
SELECT array_agg(v ORDER BY v) FROM :tbl;
-- a job that fails on page 2 changes nothing: rows, columns and raw stay
SELECT pg_temp.set_run(:sid, 3);
SELECT * FROM pg_temp.run(:sid);
SELECT array_agg(v ORDER BY v) FROM :tbl;
SELECT * FROM pg_temp.cols(:'tbl');
SELECT array_agg((data->>'v')::int ORDER BY (data->>'v')::int) FROM nango.raw WHERE sync_id = :sid;

-- Hostile keys; \u0000 in a value arrives as U+FFFD.
SELECT pg_temp.add('/mapping/hostile', '{"unique_key": "id"}') AS sid \gset
SELECT format('nango._nango_sync_%s', :sid) AS tbl \gset
SELECT * FROM pg_temp.run(:sid);
SELECT col, type FROM pg_temp.cols(:'tbl') ORDER BY col COLLATE "C";
SELECT "a""b", "x.y", "with space", "😀", "Robert""); DROP TABLE nango.syncs; --", "a'b", "_", __nango_id,
       __nango_sync_id, _ctid, _xmin, _tableoid, a_b, a_b_482ad950, "x as y", "SELECT", "back\slash", nul,
       _nango_sync_id = :sid AS own_row
  FROM :tbl ORDER BY id;
SELECT count(*) > 0 AS syncs_table_intact FROM nango.syncs;

-- At most 500 data columns, also on later pages.
SELECT pg_temp.add('/mapping/wide') AS sid \gset
SELECT format('nango._nango_sync_%s', :sid) AS tbl \gset
SELECT * FROM pg_temp.run(:sid);
SELECT count(*) AS data_columns, max(col) AS last FROM pg_temp.cols(:'tbl');
SELECT count(*), min(f000), max(f499) FROM :tbl;

-- A row too big for PostgreSQL: skipped in the mapped table, kept in nango.raw.
SELECT pg_temp.add('/mapping/huge', '{"unique_key": "id"}') AS sid \gset
SELECT format('nango._nango_sync_%s', :sid) AS tbl \gset
SELECT * FROM pg_temp.run(:sid);
SELECT id, v FROM :tbl ORDER BY id;
SELECT count(*) AS raw_rows FROM nango.raw WHERE sync_id = :sid;
-- The same on the first page of four: the failed direct insert drops its
-- ring of buffers, and the pages after it are stored in full.
SELECT pg_temp.add('/mapping/huge_first', '{"unique_key": "id"}') AS sid \gset
SELECT format('nango._nango_sync_%s', :sid) AS tbl \gset
SELECT * FROM pg_temp.run(:sid);
SELECT count(*) AS rows, count(DISTINCT id) AS ids, sum(v) AS sum_v, min(id), max(id) FROM :tbl;
SELECT count(*) AS raw_rows FROM nango.raw WHERE sync_id = :sid;

-- Two syncs share a schema-qualified table (schema created): an upsert sync
-- and an overwrite sync, each touching only its own rows; metadata columns.
SELECT pg_temp.add('/mapping/shared_a', '{"mapped_table": "mapsync.shared", "metadata": {"company_id": 123, "region": "eu"}}') AS sa \gset
SELECT pg_temp.add('/mapping/shared_b', '{"mapped_table": "mapsync.shared", "unique_key": "id", "metadata": {"company_id": 456}}') AS sb \gset
SELECT mapped_table FROM nango.syncs WHERE id IN (:sa, :sb);
SELECT * FROM pg_temp.run(:sa);
SELECT * FROM pg_temp.run(:sb);
SELECT * FROM pg_temp.run(:sa);
SELECT _nango_sync_id = :sa AS is_a, _nango_unique_key, id, src, only_a, only_b, company_id, region
  FROM mapsync.shared ORDER BY id;
SELECT * FROM pg_temp.cols('mapsync.shared');

-- Metadata key that collides with a data key: the metadata keeps the name.
SELECT pg_temp.add('/mapping/metadata', '{"metadata": {"company_id": 7}}') AS sid \gset
SELECT format('nango._nango_sync_%s', :sid) AS tbl \gset
SELECT * FROM pg_temp.run(:sid);
SELECT id, company_id, company_id_dde344b8 FROM :tbl ORDER BY id;

-- auto_mapping false: raw rows only, no table.
SELECT pg_temp.add('/mapping/seed', '{"auto_mapping": false}') AS sid \gset
SELECT * FROM pg_temp.run(:sid);
SELECT count(*) AS raw_rows FROM nango.raw WHERE sync_id = :sid;
SELECT to_regclass(format('nango._nango_sync_%s', :sid)) IS NULL AS no_table;

-- Random records (fixed seeds): every job maps or fails with a clear message,
-- and the mapped rows match nango.raw.
CREATE TEMP TABLE fuzz_runs (seed int, sid bigint, status text, error text, raw_rows bigint, mapped_rows bigint, missing bigint);
DO $$
DECLARE sid bigint; r record; n_raw bigint; n_map bigint; n_missing bigint;
BEGIN
  FOR seed IN 1 .. 6 LOOP
    sid := pg_temp.add('/mapping/fuzz', jsonb_build_object('unique_key', 'id', 'query_params', jsonb_build_object('seed', seed),
                                                          'mapped_table', 'fuzz_shared'));
    SELECT * INTO r FROM pg_temp.run(sid);
    SELECT count(*) INTO n_raw FROM nango.raw WHERE sync_id = sid;
    SELECT count(*) INTO n_map FROM nango.fuzz_shared WHERE _nango_sync_id = sid;
    SELECT count(*) INTO n_missing FROM nango.raw w WHERE w.sync_id = sid AND NOT EXISTS
      (SELECT 1 FROM nango.fuzz_shared m WHERE m._nango_sync_id = sid AND m._nango_unique_key = w.unique_key);
    INSERT INTO fuzz_runs VALUES (seed, sid, r.status, r.error, n_raw, n_map, n_missing);
  END LOOP;
END $$;
SELECT seed, status, error, raw_rows, mapped_rows, missing FROM fuzz_runs ORDER BY seed;
-- all six share one table: at most 500 data columns, every one bound to its path
SELECT count(*) <= 500 AS capped, bool_and(col_description('nango.fuzz_shared'::regclass, attnum) LIKE 'nango path %') AS bound
  FROM pg_attribute WHERE attrelid = 'nango.fuzz_shared'::regclass AND attnum > 0 AND attname !~ '^_nango_';

-- A sync whose owner may not create its mapped table: the job fails with a
-- clear message and stores nothing, not even raw rows.
CREATE ROLE nango_map_r;
SET ROLE nango_map_r;
SELECT pg_temp.add('/mapping/seed', '{"mapped_table": "public.r_items"}') AS sid \gset
SELECT * FROM pg_temp.run(:sid);
SELECT count(*) AS raw_rows FROM nango.raw WHERE sync_id = :sid;
-- the default table in schema nango is created for the owner and belongs to it
SELECT nango.update_sync(:sid, '{"mapped_table": null}');
SELECT * FROM pg_temp.run(:sid);
SELECT field, list_0 FROM nango._nango_sync_:sid;
RESET ROLE;
SELECT relowner::regrole FROM pg_class WHERE oid = format('nango._nango_sync_%s', :sid)::regclass;
SELECT nango.delete_sync(:sid, true);
DROP ROLE nango_map_r;

SET client_min_messages = warning;
DROP SCHEMA mapsync CASCADE;
DROP EXTENSION nango CASCADE;
